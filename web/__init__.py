"""Jinja2 templates of the HTTP pages, shipped as package data (found via importlib.resources)."""
