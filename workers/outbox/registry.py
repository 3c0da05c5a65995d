"""The registry of outbound connectors: one signing scheme name (``signing`` of an ``[[endpoint]]``)
→ one connector (an object with ``name`` and ``send(endpoint, message_id, body)``).

Like the feed protocols' registry (:mod:`workers.feeds.registry`): the built-in ``signed-json`` is
registered through the same :func:`register` a new connector uses, from the dotted path in
:data:`BUILTINS`, loaded on first use. A name it does not know is :class:`UnknownConnector`.
"""

from __future__ import annotations

from typing import Protocol

from data.loop.endpoints import EndpointConfig

from ..registry import Registry

BUILTINS: dict[str, str] = {
    "signed-json": "workers.outbox.signed_json:SignedJson",
    "open311": "workers.outbox.open311:Open311",
}


class DeliveryError(Exception):
    """One attempt failed. ``permanent``: retrying the same message cannot help (the department refused
    it with a 4xx other than 408/429): it is marked undelivered at once, for an admin to look at."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Connector(Protocol):
    name: str

    def send(self, endpoint: EndpointConfig, message_id: str, body: bytes) -> str | None:
        """Deliver ``body``; on success return None or a receipt the department gave (its own id of
        what it filed, shown on the ``delivered`` event); raise :class:`DeliveryError` otherwise."""


class UnknownConnector(ValueError):
    def __init__(self, name: object) -> None:
        super().__init__(f"unknown outbound connector {name!r}: use one of {', '.join(names())}")


_REGISTRY = Registry("outbound connector", BUILTINS, UnknownConnector)


def register(cls: type[Connector]) -> type[Connector]:
    """Register the connector class ``cls`` under its ``name`` (usable as a class decorator)."""
    return _REGISTRY.register(cls)


def unregister(name: str) -> None:
    _REGISTRY.unregister(name)


def names() -> tuple[str, ...]:
    """Every registered connector, built-ins first."""
    return _REGISTRY.names()


def get(name: str) -> Connector:
    """The connector registered as ``name``; :class:`UnknownConnector` when there is none."""
    connector: Connector = _REGISTRY.get(name)
    return connector
