"""The advisor's prompt, as package data (read with importlib.resources)."""
