"""What every push passes before its body is looked at: the key, its rate limit and its size limit —
and, once it passes, the hand-over to the workers (an RQ job by name; the web tier waits for it).

Refusals are counted per key in Redis (:mod:`data.push.limits`) and shown on ``/feeds``; a refusal of
a push that carried a body leaves its quarantine row (:func:`keep_refusal`, :mod:`data.push.refusals`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import Request
from rq import Queue
from rq.job import Job
from sqlalchemy.exc import SQLAlchemyError

from data.db import transaction
from data.models import utcnow
from data.push import limits, refusals
from data.push.keys import authenticate
from data.push.queue import (
    FATE_KEY,
    INGEST_JOB,
    JOB_TIMEOUT,
    PUSH_QUEUE,
    RESULT_TTL,
    RUN_WAIT_SECONDS,
    WAIT_SECONDS,
)

from ..redis_or import REDIS_DOWN
from ..services import services

log = logging.getLogger(__name__)

HEADER = "X-Api-Key"
_KEEP_FAILED: tuple[type[Exception], ...] = (*REDIS_DOWN, SQLAlchemyError)  # a refusal's row not written
POLL_S = 0.02  # how often the waiting request looks at its job


@dataclass(frozen=True)
class Client:
    """The key a request came with, as the endpoints need it (no ORM object past the session)."""

    id: int
    name: str
    kind: str
    owner: str
    feed_name: str
    protocols: tuple[str, ...]
    max_body_bytes: int
    rate_per_minute: int

    @property
    def filed_prefix(self) -> str:
        """The external ids of the Open311 requests this key filed start with it."""
        return f"push-{self.id}-"


class Refused(Exception):
    """A push refused: the HTTP status and the reason; ``head``, the start of a body read before the
    refusal; ``kept``, whether the workers have quarantined it already (no second row)."""

    def __init__(
        self, status: int, reason: str, outcome: str | None = None, head: bytes = b"", kept: bool = False
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.outcome = status, reason, outcome
        self.head, self.kept = head, kept


def token_of(request: Request, form: dict[str, str] | None = None) -> str | None:
    """The key from the ``X-Api-Key`` header, else ``api_key`` in the query or the form."""
    return request.headers.get(HEADER) or request.args.get("api_key") or (form or {}).get("api_key")


def client_for(token: str | None) -> Client:
    with services().sessions() as session:
        key = authenticate(session, token)
        if key is None:
            raise Refused(403, "api_key is missing, unknown or revoked")
        return Client(
            key.id, key.name, key.kind, key.owner, key.feed_name, tuple(key.protocols.split(",")),
            key.max_body_bytes, key.rate_per_minute,
        )  # fmt: skip


def admit(request: Request, client: Client, protocol: str, body: bool = True) -> None:
    """The protocol, the rate and (``body``: for a request that carries one) the size limits of
    ``client``, each refusal counted."""
    if protocol not in client.protocols:
        count(client, "bad")
        raise Refused(403, f"this key may not use {protocol} (it may push {', '.join(client.protocols)})")
    conn = services().redis
    if not limits.allow(conn, client.name, client.rate_per_minute):
        count(client, "rate")
        raise Refused(429, f"rate limit: at most {client.rate_per_minute} requests a minute for this key")
    size = request.content_length
    if not body:
        return
    if size is None or size > client.max_body_bytes:
        count(client, "size")
        raise Refused(413, f"the body is larger than this key's limit of {client.max_body_bytes} bytes"
                      if size is not None else "a push needs a Content-Length")  # fmt: skip


def body_of(request: Request, client: Client) -> bytes:
    """The body, read no further than the key's limit (a client that lied about its length)."""
    body = request.stream.read(client.max_body_bytes + 1)
    if len(body) > client.max_body_bytes:
        count(client, "size")
        raise Refused(
            413,
            f"the body is larger than this key's limit of {client.max_body_bytes} bytes",
            head=body[: refusals.READ_BYTES],
        )
    return body


def keep_refusal(request: Request, client: Client | None, refused: Refused, raw: bytes | str) -> None:
    """Quarantine a refused push that carried a body (``raw``: what of it was read), once, within the
    per-address caps of :mod:`data.push.refusals`; the answer goes out whatever happens here."""
    if refused.kept or refused.status not in refusals.KEEP_STATUSES or not raw:
        return
    try:
        conn, address = services().redis, request.remote_addr or ""
        feed = client.feed_name if client is not None else refusals.PUSH_FEED
        with transaction(services().sessions) as session:
            refusals.keep(
                session, feed, refused.reason, refusals.raw_text(raw), utcnow(),
                lambda: refusals.allowed(conn, address, client is None),
            )  # fmt: skip
    except _KEEP_FAILED:
        log.exception("a refused push could not be quarantined")


def count(client: Client, outcome: str) -> None:
    try:
        limits.count(services().redis, client.name, outcome)
    except REDIS_DOWN:
        pass


def ingest(client: Client, body: bytes, content_type: str | None, **options: Any) -> dict[str, Any]:
    """Hand ``body`` to the workers (``workers.jobs.push.ingest_pushed`` on the push queue) and wait for
    its answer; :class:`Refused` (503) when no worker takes it within ``WAIT_SECONDS`` — the push is then
    abandoned (:data:`~data.push.queue.FATE_KEY`: a worker that dequeues it later stores nothing) and its
    job cancelled, so a client that tries again does not file twice — or when one took it and has not
    finished ``RUN_WAIT_SECONDS`` later (it is stored then, once: the client is told not to resend)."""
    conn = services().redis
    queue = Queue(PUSH_QUEUE, connection=conn)
    job = queue.enqueue(
        INGEST_JOB, args=(client.feed_name, body, content_type, client.name), kwargs=options,
        job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=RESULT_TTL,
        description=f"ingest_pushed({client.feed_name!r}, client={client.name!r})",
    )  # fmt: skip
    started = time.monotonic()
    deadline = started + WAIT_SECONDS
    taken = False
    while True:
        status = job.get_status(refresh=True)
        if status == "finished":
            result = job.return_value()
            if isinstance(result, dict):
                return result
            break
        if status == "failed":
            raise Refused(500, "the push could not be stored (the worker failed); nothing was kept")
        if time.monotonic() >= deadline:
            if taken:
                break
            if status != "started" and _abandon(conn, job):
                why = f"no gridcc worker took the push within {WAIT_SECONDS:.0f} s; nothing was stored"
                raise Refused(503, why)
            taken = True  # a worker has it: it will be stored, so wait for its answer a while longer
            deadline = started + WAIT_SECONDS + RUN_WAIT_SECONDS
        time.sleep(POLL_S)
    raise Refused(
        503, "a worker is still storing the push: look for it (GET requests) before sending it again"
    )


def _abandon(conn: Any, job: Job) -> bool:
    """Give the push up unless a worker has taken it (then nothing of it will be stored, even by a worker
    that dequeued it just now) and cancel its job; whether it was given up."""
    if not conn.set(FATE_KEY.format(job_id=job.id), "abandoned", nx=True, ex=RESULT_TTL):
        return False
    try:
        job.cancel()
    except Exception:  # noqa: BLE001 - a job a worker dequeued meanwhile is stopped by its fate, not here
        log.info("push job %s dequeued while it was given up", job.id)
    return True
