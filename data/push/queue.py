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
# A push's fate, decided once: ``"taken"`` by the worker that starts the job, or ``"abandoned"`` by the
# web tier that stopped waiting for one (SET NX: whoever writes first decides). RQ does not stop a job
# cancelled between a worker's dequeue and its start, so the cancel alone could store a push the client
# was told was not stored.
FATE_KEY = "gridcc:push:fate:{job_id}"
