"""The audit log (``/audit``).

No screen imports another; shared parts live in :mod:`dashboard.components`."""
