"""Hearth's room engine: pure rules (``engine``), their data (``model``) and storage backends."""
