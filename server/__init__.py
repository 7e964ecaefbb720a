"""Hearth's server: the ASGI app, the websocket loop, the wire codec, configuration and CLI."""
