"""The ingest machinery: what one poll parsed, put into the database in the poll's one transaction.

``batch`` (the pages one poll read, and how far the cursor may move), ``cases`` and ``alerts`` (the
upserts), ``placement`` and ``catalogue`` (where a record goes, which category and department), ``clock``
(deadline facts; shared with the deadlines job), ``quarantine``, ``isolate`` (per-record failure) and
``held`` (an Open311 page that stays unreadable). The RQ jobs that drive it are in :mod:`workers.jobs`.
"""
