"""A Redis lock kept alive by a heartbeat while its holder works.

A lock with a short time to live, renewed every few seconds by a thread for as long as the ``with``
block runs, frees what it guards soon after its holder dies (a worker SIGKILLed in the middle of a poll),
however long the guarded work may rightly take (a slow feed, a large commit). The lock must be made with
``thread_local=False`` so that the thread may renew the token the holder took.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import LockError, RedisError
from redis.lock import Lock

log = logging.getLogger(__name__)


@contextmanager
def heartbeat(lock: Lock, every: float, name: str) -> Iterator[None]:
    """Renew ``lock`` to its full timeout every ``every`` seconds until the block ends. A renewal that
    fails (the lock expired and someone else took it, Redis away) is logged and ends the heartbeat: the
    holder's own release says whether it still held the lock."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                lock.reacquire()
            except LockError:
                log.warning("lock %s was lost before its holder finished", name)
                return
            except RedisError as exc:
                log.warning("lock %s not renewed: %s", name, exc)

    thread = threading.Thread(target=beat, name=f"heartbeat:{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
