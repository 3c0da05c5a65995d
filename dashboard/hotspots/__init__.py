"""``/hotspots``: the 类案 — the hotspots of the viewer's area, each opening the cases behind it."""
