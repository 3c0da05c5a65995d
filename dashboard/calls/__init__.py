"""``/calls/<alert id>``: 预警叫应 of one warning — the silent grids with their workers, and 再叫应."""
