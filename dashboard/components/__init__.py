"""Reusable Dash components (the map first)."""
