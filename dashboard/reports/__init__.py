"""``/reports``: a leader's report of an area for a period, its XLSX and its print view."""
