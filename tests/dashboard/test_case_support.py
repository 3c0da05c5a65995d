"""Helpers for the case, feeds and safety page tests (no tests here): render a page's layout inside a
request of the real app, walk the component tree, serialise it as the browser would receive it."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import plotly.utils

from data.scope import AreaScope

# A mainland mobile number standing alone (not the digits inside a longer number or a coordinate).
PHONE = r"(?<![\d.])1[3-9]\d{9}(?!\d)"


def render(
    app: Any,
    path: str,
    *,
    scope: AreaScope | None = None,
    lang: str = "zh-CN",
    query: Mapping[str, str] | None = None,
) -> Any:
    """The layout of the page at ``path``, built as ``create_app``'s router builds it (viewer's scope
    from ``current_scope()`` unless ``scope`` is given)."""
    from dashboard.page import PageContext
    from dashboard.scope import current_scope
    from dashboard.services import services

    with app.server.test_request_context(path):
        found = app.server.extensions["gridcc_pages"].resolve(path)
        assert found is not None, f"no page for {path}"
        page, params = found
        svc = services()
        ctx = PageContext(
            settings=svc.settings,
            services=svc,
            scope=scope if scope is not None else current_scope(),
            lang=lang,
            path_params=params,
            query=dict(query or {}),
            base_path="/",
        )
        return page.layout(ctx)


def walk(component: Any) -> Iterator[Any]:
    """Every component and string in the tree, depth first, in document order."""
    yield component
    if isinstance(component, (list, tuple)):
        for item in component:
            yield from walk(item)
        return
    children = getattr(component, "children", None)
    if children is not None and not isinstance(component, str):
        yield from walk(children)


def texts(component: Any) -> list[str]:
    """Every text node (strings and numbers) in document order."""
    return [str(x) for x in walk(component) if isinstance(x, (str, int, float)) and not isinstance(x, bool)]


def text(component: Any) -> str:
    return " ".join(texts(component))


def by_class(component: Any, name: str) -> list[Any]:
    """Components whose className contains the class ``name``."""
    return [c for c in walk(component) if name in (getattr(c, "className", None) or "").split()]


def as_json(component: Any) -> str:
    """The layout as the browser receives it."""
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def html_sinks(component: Any) -> list[Any]:
    """Components that would render a string as HTML (none may exist on our pages)."""
    out = []
    for c in walk(component):
        if getattr(c, "dangerously_allow_html", False):
            out.append(c)
        if type(c).__name__ in ("DangerouslySetInnerHTML", "Iframe"):
            out.append(c)
    return out


def all_pages_app(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Any]:
    """The app with every default page (the shared ``app`` fixture serves the map alone); use as
    ``yield from all_pages_app(...)`` in a module's own ``app`` fixture."""
    from dashboard.app import create_app
    from dashboard.services import services
    from data.settings import Settings

    # the pages' content, not access: sign-in off explicitly (test_access_scope.py tests it on)
    settings = Settings(
        data_dir=tmp_path / "var", database_url=database_url, redis_url=redis_url, auth_required=False
    )
    dash_app = create_app(settings)
    yield dash_app
    services(dash_app.server).close()
