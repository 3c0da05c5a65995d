"""The registry of outbound connectors: one signing scheme name (``signing`` of an ``[[endpoint]]``)
→ one connector (an object with ``name`` and ``send(endpoint, message_id, body)``).

Like the feed protocols' registry (:mod:`workers.feeds.registry`): the built-in ``signed-json`` is
registered through the same :func:`register` a new connector uses, from the dotted path in
:data:`BUILTINS`, loaded on first use. A name it does not know is :class:`UnknownConnector`.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Protocol

from data.loop.endpoints import EndpointConfig

BUILTINS: dict[str, str] = {
    "signed-json": "workers.outbox.signed_json:SignedJson",
}

_registered: dict[str, Any] = {}
_builtins_loaded = False
_loading = threading.RLock()


class DeliveryError(Exception):
    """One attempt failed. ``permanent``: retrying the same message cannot help (the department refused
    it with a 4xx other than 408/429): it is marked undelivered at once, for an admin to look at."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Connector(Protocol):
    name: str

    def send(self, endpoint: EndpointConfig, message_id: str, body: bytes) -> None:
        """Deliver ``body``; return on success, raise :class:`DeliveryError` otherwise."""


class UnknownConnector(ValueError):
    def __init__(self, name: object) -> None:
        super().__init__(f"unknown outbound connector {name!r}: use one of {', '.join(names())}")


def register(cls: type[Any]) -> type[Any]:
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no connector name")
    current = _registered.get(name)
    if current is not None and type(current) is not cls:
        raise ValueError(f"outbound connector {name!r} is registered already ({type(current).__name__})")
    _registered[name] = cls()
    return cls


def unregister(name: str) -> None:
    _registered.pop(name, None)


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _loading:
        if _builtins_loaded:
            return
        for name, path in BUILTINS.items():
            module, _, attr = path.partition(":")
            cls = getattr(importlib.import_module(module), attr)
            if cls.name != name:
                raise TypeError(f"{path} is connector {cls.name!r}, registered as {name!r}")
            register(cls)
        _builtins_loaded = True


def names() -> tuple[str, ...]:
    _load_builtins()
    return (*(n for n in BUILTINS if n in _registered), *(n for n in _registered if n not in BUILTINS))


def get(name: str) -> Connector:
    _load_builtins()
    connector = _registered.get(name)
    if connector is None:
        raise UnknownConnector(name)
    return connector
