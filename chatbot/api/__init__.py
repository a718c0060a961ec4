"""HTTP API: one router per resource, dependencies in `deps.py`, the app in `app.py`."""

from chatbot.api.app import create_app

__all__ = ["create_app"]
