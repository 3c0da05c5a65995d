"""One case (``/cases/<id>``): facts, timeline, map, and a leader's 督办 actions.

No screen imports another; shared parts live in :mod:`dashboard.components`."""
