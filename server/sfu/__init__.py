"""SFU mode: Hearth drives Janus VideoRoom instances through their WebSocket API.

``janus_config`` writes the configuration folder a Janus instance runs with (never the stock
``/etc/janus``); ``janus`` is the asynchronous client of Janus's WebSocket API.
"""
