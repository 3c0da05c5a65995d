"""Worker names that a restarted worker can take at once.

RQ refuses to start a worker under a name whose registration is still alive, and a worker killed
outright (SIGKILL, out of memory) leaves its registration behind until its key expires (minutes). So a
supervised worker takes a fresh name on every start, ``<prefix>-<pid>-<random>``, and first marks dead
the registrations of this host's workers of the same prefix whose process is gone (their jobs are left
to RQ's own clean-up of abandoned jobs).
"""

from __future__ import annotations

import os
import secrets
import socket

import redis
from rq import Worker

from data.redis_server import connect


def fresh_name(prefix: str) -> str:
    """``<prefix>-<pid>-<6 hex digits>``, the pid of the process that names it (``gridcc worker``,
    which becomes the worker; or the demo's supervisor, which starts it)."""
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_workers(redis_url: str, prefix: str) -> list[str]:
    """Register the death of this host's workers named ``<prefix>-…`` whose process no longer exists;
    return their names. Best effort: with Redis unreachable it does nothing (the worker will fail to
    start and be restarted)."""
    host = socket.gethostname()
    gone: list[str] = []
    conn = connect(redis_url, socket_timeout=5, socket_connect_timeout=2)
    try:
        for worker in Worker.all(connection=conn):
            if not worker.name.startswith(prefix + "-") or worker.hostname != host:
                continue
            if worker.pid and worker.pid != os.getpid() and not _process_exists(worker.pid):
                worker.register_death()
                gone.append(worker.name)
    except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
        pass
    finally:
        conn.close()
    return gone
