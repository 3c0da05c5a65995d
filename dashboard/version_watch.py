"""The long poll behind ``/api/versions?wait=…``: one Redis subscription per web process wakes every
browser waiting for new layer versions.

Why a long poll and not the 1 s tick alone, nor server-sent events (figures in docs/wall-updates.md):
a wall that asks "anything newer than these versions?" and is answered only when there is, hears of a
new case as soon as the ingest bumps the versions (instead of up to a second later), and costs nothing
between changes but a held connection (instead of a request a second). It is the same request as the
tick — an answer is the versions, a browser that does not wait is answered at once — so nothing else
in the map's code changes, and the tick stays as the fallback whenever a wait cannot be held.

How it recovers by itself: the listener thread re-subscribes after Redis comes back (with a growing
pause) and then wakes every waiter, which reads the versions again; a waiter re-reads them every
:data:`RECHECK_S` anyway (every :data:`RECHECK_DOWN_S` while the subscription is down), so a lost
message costs at worst that long, never a wrong answer. A web process that restarts drops its held
connections: the browser asks again on its next tick. The number of waits held at once per process is
capped (``Settings.long_poll_slots``): gunicorn's gthread worker gives each held request a thread, and
the rest must stay free for the pages and layers; past the cap a wall is answered at once, as by the
tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from layers import versions

log = logging.getLogger(__name__)

MAX_WAIT_S = 25.0  # under common proxies' 30–60 s idle timeouts; the browser then simply asks again
RECHECK_S = 10.0  # a waiter re-reads the versions this often even with no message (a lost one)
RECHECK_DOWN_S = 1.0  # … and this often while the subscription is down (the tick's own pace)
RETRY_MAX_S = 5.0  # the longest pause between two attempts to subscribe again


class VersionWatch:
    """Waits for "the versions moved" on behalf of the request threads of one web process."""

    def __init__(self, conn: redis.Redis, slots: int) -> None:
        self._conn = conn
        self.slots = slots
        self._cond = threading.Condition()
        self._seq = 0  # wake-ups so far: a waiter compares it with the value it saw before reading
        self._held = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.listening = False

    # ------------------------------------------------------------------ the listener
    def _start(self) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="gridcc-version-watch", daemon=True)
                self._thread.start()

    def _wake(self) -> None:
        with self._cond:
            self._seq += 1
            self._cond.notify_all()

    def _listen(self) -> None:
        pause = 0.2
        while not self._stop.is_set():
            # subscription confirmations are kept: redis-py may reconnect and subscribe again by itself,
            # and its confirmation is then the only sign of a gap in which a bump may have been missed
            pubsub = self._conn.pubsub()
            try:
                pubsub.subscribe(versions.CHANNEL)
                self.listening = True
                pause = 0.2
                while not self._stop.is_set():
                    # a bump, or "subscribed (again)": every waiter reads the versions now
                    if pubsub.get_message(timeout=1.0) is not None:
                        self._wake()
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if self.listening:
                    log.warning("version watch: Redis subscription lost (%s); retrying", exc)
                self.listening = False
                self._wake()  # the waiters re-read now (and find Redis away: they answer so)
                self._stop.wait(pause)
                pause = min(pause * 2, RETRY_MAX_S)
            finally:
                self.listening = False
                try:
                    pubsub.close()
                except Exception as exc:  # noqa: BLE001 - closing a connection that already broke
                    log.debug("version watch: closing the old subscription: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._wake()

    # ------------------------------------------------------------------ the waiters
    def _enter(self) -> bool:
        with self._cond:
            if self._held >= self.slots:
                return False
            self._held += 1
            return True

    def _leave(self) -> None:
        with self._cond:
            self._held -= 1

    @property
    def held(self) -> int:
        return self._held

    def wait(
        self, read: Callable[[], dict[str, int]], since: str, wait_s: float
    ) -> tuple[dict[str, int], str]:
        """The versions as soon as they differ from ``since`` (a :func:`layers.versions.token`), or as they
        are after ``wait_s``; and how it went: ``"changed"``, ``"timeout"``, or ``"full"`` (no slot:
        answered at once). ``read`` raises what Redis raises: the caller answers that."""
        current = read()
        if versions.token(current) != since or wait_s <= 0:
            return current, "changed"
        if not self._enter():
            return current, "full"
        try:
            self._start()
            deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
            while True:
                with self._cond:
                    seen = self._seq
                current = read()
                if versions.token(current) != since:
                    return current, "changed"
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return current, "timeout"
                recheck = RECHECK_S if self.listening else RECHECK_DOWN_S
                with self._cond:
                    if self._seq == seen:  # not woken since our read: wait for the next wake-up
                        self._cond.wait(timeout=min(left, recheck))
        finally:
            self._leave()
