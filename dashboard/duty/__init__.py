"""The duty console (``/duty``): filters in the URL, the case table, the map and the alert list.

No screen imports another; shared parts live in :mod:`dashboard.components`."""
