"""Retrieval-augmented multilingual chatbot for a city's citizen service hotline."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("citizen-chatbot")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"
