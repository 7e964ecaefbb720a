"""Browser code and styles, shipped as package data (found via importlib.resources)."""
