"""Overdue by unit (``/overdue``): the district down to one overdue case.

No screen imports another; shared parts live in :mod:`dashboard.components`."""
