"""The full-screen map (``/map``).

No screen imports another; shared parts live in :mod:`dashboard.components`."""
