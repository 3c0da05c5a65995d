"""Where the web tier hands a push to the workers, by name only (the dashboard never imports
``workers``): the queue every gridcc worker listens to first, and the job's dotted path."""

from __future__ import annotations

PUSH_QUEUE = "gridcc-push"
INGEST_JOB = "workers.jobs.push.ingest_pushed"
JOB_TIMEOUT = 60  # seconds a worker may spend on one push (a push is one document: far less)
RESULT_TTL = 300  # the answer is read at once by the web tier waiting for it
WAIT_SECONDS = 10.0  # how long the web tier waits for a worker to take the push before a 503
# Once a worker has taken it, the push will be stored: the web tier waits for the answer this much longer
# (a cold worker's first job builds its runtime and grid locator) rather than tell the client to try
# again and have it filed twice.
RUN_WAIT_SECONDS = 50.0
