"""The feeds console (``/feeds``): feed health, quarantine, RQ queues, payloads.

No screen imports another; shared parts live in :mod:`dashboard.components`."""
