"""Storage and fan-out backends: memory and SQLite by default, Redis for many nodes."""
