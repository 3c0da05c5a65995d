"""A registry of named extensions whose built-ins register the way a new one does.

datasette's default plugins are the model: the built-ins are dotted paths (``"module:Class"``), loaded
on first use and registered through the same :meth:`Registry.register` a new extension calls (as a class
decorator or directly); each is kept as one instance of its class. A name the registry does not know is
the error its owner gives (``unknown``), never a fall-through to another extension. Nothing is imported
when the registry is made, so the modules below the extensions can ask it without an import circle.

The feed protocols (:mod:`workers.feeds.registry`) and the outbound connectors
(:mod:`workers.outbox.registry`) are two registries of this kind.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import Any


class Registry:
    def __init__(
        self, kind: str, builtins: Mapping[str, str], unknown: Callable[[object], Exception]
    ) -> None:
        self.kind = kind  # what an entry is, for errors: "feed protocol", "outbound connector"
        self.builtins = builtins  # name → "module:Class"
        self._unknown = unknown
        self._registered: dict[str, Any] = {}
        self._loaded = False
        self._loading = threading.RLock()

    def register(self, cls: type[Any]) -> type[Any]:
        """Register the class ``cls`` under its ``name`` (usable as a class decorator)."""
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{cls.__name__} has no {self.kind} name")
        current = self._registered.get(name)
        if current is not None and type(current) is not cls:
            raise ValueError(f"{self.kind} {name!r} is registered already ({type(current).__name__})")
        self._registered[name] = cls()
        return cls

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests that register one of their own clean up with it)."""
        self._registered.pop(name, None)

    def _load_builtins(self) -> None:
        if self._loaded:
            return
        with self._loading:
            if self._loaded:
                return
            for name, path in self.builtins.items():
                module, _, attr = path.partition(":")
                cls = getattr(importlib.import_module(module), attr)
                if cls.name != name:
                    raise TypeError(f"{path} is {self.kind} {cls.name!r}, registered as {name!r}")
                self.register(cls)
            self._loaded = True

    def names(self) -> tuple[str, ...]:
        """Every registered name, built-ins first."""
        self._load_builtins()
        builtins = tuple(n for n in self.builtins if n in self._registered)
        return (*builtins, *(n for n in self._registered if n not in self.builtins))

    def get(self, name: str) -> Any:
        """The instance registered as ``name``; the owner's ``unknown`` error when there is none."""
        self._load_builtins()
        found = self._registered.get(name)
        if found is None:
            raise self._unknown(name)
        return found

    def is_known(self, name: str) -> bool:
        self._load_builtins()
        return name in self._registered
