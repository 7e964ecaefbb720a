"""The group's journey: what lasts between sessions (docs/journey.md)."""
