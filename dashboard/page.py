"""What a page is: a path pattern and a layout function of a :class:`PageContext`, and the registry.

A new screen is a package ``dashboard/<screen>/`` whose ``page.py`` exposes ``PAGE = Page(...)``, and one
line in :func:`dashboard.screens.default_pages` (screens import this module, never the list).
Layouts are built per request (inside a Flask request), so they can read the viewer's scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from data.scope import AreaScope
from data.settings import Settings

from .services import Services
from .urls import Urls


@dataclass(frozen=True)
class PageContext:
    """What a layout may know about the request."""

    settings: Settings
    services: Services
    scope: AreaScope
    lang: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    base_path: str = "/"

    @property
    def urls(self) -> Urls:
        """Local links under this app's base path, in this request's language."""
        return Urls(self.base_path, self.lang)


Layout = Callable[[PageContext], Any]


@dataclass(frozen=True)
class Page:
    """``path`` may hold ``<name>`` segments (``/cases/<id>``) that reach the layout as path_params."""

    path: str
    name: str
    title_key: str
    layout: Layout
    # called once per app by create_app, to register the page's callbacks (``register(app)``)
    register: Callable[[Any], None] | None = None
    # component libraries of ``first_page.OPTIONAL_BUNDLES`` that the page uses (``"dash_ag_grid"``):
    # the others are not loaded with it
    bundles: frozenset[str] = frozenset()

    def match(self, pathname: str) -> dict[str, str] | None:
        pattern = "^" + re.sub(
            r"<([a-z_]+)>", r"(?P<\1>[^/]+)", re.escape(self.path).replace(r"\<", "<").replace(r"\>", ">")
        )
        found = re.match(pattern + "/?$", pathname or "/")
        return found.groupdict() if found else None


class PageRegistry:
    """Pages in the order they were added; the first whose pattern matches wins."""

    def __init__(self, pages: list[Page] | None = None) -> None:
        self._pages: list[Page] = []
        for page in pages or []:
            self.add(page)

    def add(self, page: Page) -> None:
        if any(p.path == page.path for p in self._pages):
            raise ValueError(f"two pages for {page.path!r}")
        self._pages.append(page)

    def resolve(self, pathname: str) -> tuple[Page, dict[str, str]] | None:
        for page in self._pages:
            params = page.match(pathname)
            if params is not None:
                return page, params
        return None

    def __iter__(self) -> Any:
        return iter(self._pages)
