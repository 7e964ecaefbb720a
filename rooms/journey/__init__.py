"""The group's journey: what lasts between sessions, and when the group meets (docs/journey.md)."""
