"""Feed adapters (fetch → parse → normalise), RQ jobs, the rq cron schedule and the demo simulators.

Imports ``data`` and ``layers``.
"""
