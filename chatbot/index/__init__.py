"""Versioned index directories: build, switch atomically, load."""

from chatbot.index.builder import BuildResult, build_index
from chatbot.index.loaded import LoadedIndex
from chatbot.index.manifest import IndexManifest
from chatbot.index.store import IndexStore

__all__ = ["BuildResult", "IndexManifest", "IndexStore", "LoadedIndex", "build_index"]
