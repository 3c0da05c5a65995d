"""The registry of feed protocols: one name → one adapter (a :class:`workers.protocols.base.FeedProtocol`).

It serves everything that needs to know which protocols exist: the feeds file's validation
(:mod:`.config`), the parser entry point (:mod:`.parsers`, so ``gridcc feeds parse`` and its help), the
fetch (:mod:`.fetch`) and the poll job. A name it does not know is an :class:`UnknownProtocol` error,
never a fall-through to another protocol.

The built-in protocols are registered through the same :func:`register` a new one uses, from the
dotted paths in :data:`BUILTINS`, loaded on first use (datasette loads its default plugins the same
way). Adding a protocol is one new module in ``workers/protocols/`` and one line here. This module
imports none of them itself, so the layers below the adapters (the fetch, the parsers, the config)
can ask it without an import circle.
"""

from __future__ import annotations

from typing import Any

from ..registry import Registry

# name: "module:Class"
BUILTINS: dict[str, str] = {
    "open311": "workers.protocols.open311:Open311",
    "cap": "workers.protocols.cap:Cap",
    "sensor": "workers.protocols.sensor:Sensor",
}


class UnknownProtocol(ValueError):
    """A feed names a protocol no adapter is registered for (a configuration error)."""

    def __init__(self, name: object) -> None:
        super().__init__(f"unknown feed protocol {name!r}: use one of {', '.join(names())}")
        self.name = name


_REGISTRY = Registry("feed protocol", BUILTINS, UnknownProtocol)


def register(cls: type[Any]) -> type[Any]:
    """Register the adapter class ``cls`` under its ``name`` (usable as a class decorator)."""
    return _REGISTRY.register(cls)


def unregister(name: str) -> None:
    """Forget the protocol ``name`` (tests that register a protocol of their own clean up with it)."""
    _REGISTRY.unregister(name)


def names() -> tuple[str, ...]:
    """Every registered protocol, built-ins first."""
    return _REGISTRY.names()


def get(name: str) -> Any:
    """The adapter of protocol ``name``; :class:`UnknownProtocol` when there is none."""
    return _REGISTRY.get(name)


def is_known(name: str) -> bool:
    return _REGISTRY.is_known(name)
