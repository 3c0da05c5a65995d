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

import importlib
import threading
from typing import Any

# name: "module:Class"
BUILTINS: dict[str, str] = {
    "open311": "workers.protocols.open311:Open311",
    "cap": "workers.protocols.cap:Cap",
    "sensor": "workers.protocols.sensor:Sensor",
}

_registered: dict[str, Any] = {}  # name → the adapter (an instance of its class)
_builtins_loaded = False
_loading = threading.RLock()


class UnknownProtocol(ValueError):
    """A feed names a protocol no adapter is registered for (a configuration error)."""

    def __init__(self, name: object) -> None:
        super().__init__(f"unknown feed protocol {name!r}: use one of {', '.join(names())}")
        self.name = name


def register(cls: type[Any]) -> type[Any]:
    """Register the adapter class ``cls`` under its ``name`` (usable as a class decorator)."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__name__} has no protocol name")
    current = _registered.get(name)
    if current is not None and type(current) is not cls:
        raise ValueError(f"feed protocol {name!r} is registered already ({type(current).__name__})")
    _registered[name] = cls()
    return cls


def unregister(name: str) -> None:
    """Forget the protocol ``name`` (tests that register a protocol of their own clean up with it)."""
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
                raise TypeError(f"{path} is protocol {cls.name!r}, registered as {name!r}")
            register(cls)
        _builtins_loaded = True


def names() -> tuple[str, ...]:
    """Every registered protocol, built-ins first."""
    _load_builtins()
    return (*(n for n in BUILTINS if n in _registered), *(n for n in _registered if n not in BUILTINS))


def get(name: str) -> Any:
    """The adapter of protocol ``name``; :class:`UnknownProtocol` when there is none."""
    _load_builtins()
    adapter = _registered.get(name)
    if adapter is None:
        raise UnknownProtocol(name)
    return adapter


def is_known(name: str) -> bool:
    _load_builtins()
    return name in _registered
