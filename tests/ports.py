"""Free local ports for servers a test starts in a subprocess."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def _ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (Linux; 32768 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_range(count: int) -> int:
    """``count`` consecutive free ports below the ephemeral range: the demo binds them tens of seconds
    after this check, and a port in the ephemeral range may meanwhile become some outgoing connection's
    local port (CI saw a simulator fail with "Address already in use" so)."""
    top = min(_ephemeral_low(), 65536) - count - 1
    for _ in range(200):
        base = random.randint(min(15000, top - 1000), top)
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")
