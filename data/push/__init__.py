"""Departments and reporting apps push to gridcc (issue #12): their keys (:mod:`.keys`), the queue the
web tier hands a push to (:mod:`.queue`), and the per-key rate limits and refusal counts in Redis
(:mod:`.limits`). The web tier (``dashboard.push``) and the workers (``workers.jobs.push``) both
read these; neither imports the other."""
