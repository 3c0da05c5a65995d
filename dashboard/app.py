"""The Dash app factory: ``create_app(settings)``. Nothing is created at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import dash
import dash_mantine_components as dmc
from dash import ClientsideFunction, Input, Output, State, dcc, html

from data.settings import Settings

from .act.callbacks import register_action_panel
from .asset_cache import install_asset_cache
from .auth import install_auth
from .callback_checks import install_callback_checks
from .components.map import register_map_callbacks
from .export import register_export
from .first_page import OPTIONAL_BUNDLES, GridccDash, path_pattern, where
from .headers import install_security_headers
from .i18n import lang_from_query, t
from .inbound import make_inbound_blueprint
from .page import PageContext, PageRegistry
from .push import make_push_blueprint
from .routes import register_routes
from .scope import current_scope
from .screens import default_pages
from .services import install, services

ASSETS = Path(__file__).parent / "assets"

INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body style="background:#070b14">
        {%app_entry%}
        <footer>
            <!--gridcc-first-->
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def create_app(settings: Settings, pages: PageRegistry | None = None) -> dash.Dash:
    """The dashboard. Its connections are made lazily and kept on ``app.server.extensions["gridcc"]``."""
    app = GridccDash(
        __name__,
        title=t("app_title", settings.language),
        update_title="",
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,
        index_string=INDEX,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.scripts.config.serve_locally = True
    app.css.config.serve_locally = True
    server = app.server
    server.config["SECRET_KEY"] = settings.effective_secret_key()
    trust_proxies(server, settings.trusted_proxies)
    install(server, settings)
    _compress(server)
    register_routes(server)
    register_export(server)  # GET /export/cases.csv, through the viewer's scope like the layer routes
    install_auth(server, settings)  # sign-in pages; enforced only with settings.auth_required
    server.register_blueprint(make_inbound_blueprint(settings))  # departments' answers, signed (no sign-in)
    server.register_blueprint(make_push_blueprint(settings))  # Open311 server, CAP and sensor push (by key)
    install_asset_cache(server)  # fingerprinted assets and bundles kept for good
    install_security_headers(server, settings)  # after Compress: runs first, sees pages uncompressed
    install_callback_checks(app)  # after the sign-in and CSRF checks: 400 for a malformed callback body
    registry = pages or PageRegistry(default_pages())
    server.extensions["gridcc_pages"] = registry

    def bundles_for(path: str) -> frozenset[str]:
        found = registry.resolve(_local(app, path))
        return found[0].bundles if found is not None else frozenset()

    app.bundles_for = bundles_for

    def page_children(pathname: str | None, search: str | None) -> Any:
        query = dict(parse_qsl((search or "").lstrip("?")))
        lang = lang_from_query(query, settings.language)
        prefix = app.config.requests_pathname_prefix or "/"
        found = registry.resolve(_local(app, pathname or "/"))
        if found is None:
            return html.Div(
                [html.H2(t("not_found", lang)), html.A(t("back_home", lang), href=prefix)],
                className="gridcc-not-found",
            )
        page, params = found
        ctx = PageContext(
            settings=settings,
            services=services(),
            scope=current_scope(),
            lang=lang,
            path_params=params,
            query=query,
            base_path=prefix,
        )
        return page.layout(ctx)

    def first_layout() -> Any:
        """The shell and, when the request tells the browser's URL, that URL's page in it (see
        :mod:`dashboard.first_page`): the router then waits for a link to change the path."""
        pathname, search = where()
        here = {"pathname": pathname, "search": search} if pathname is not None else {}
        loaded = sorted(bundles_for(pathname) if pathname is not None else OPTIONAL_BUNDLES)
        prefix = (app.config.requests_pathname_prefix or "/").rstrip("/")
        needs = [[path_pattern(prefix + p.path), sorted(p.bundles)] for p in registry if p.bundles]
        return dmc.MantineProvider(
            html.Div(
                [
                    dcc.Location(id="gridcc-url", refresh=False, **here),
                    html.Div(
                        page_children(pathname, search) if pathname is not None else None, id="gridcc-page"
                    ),
                    dcc.Store(id="gridcc-bundles", data={"loaded": loaded, "pages": needs}),
                ]
            ),
            forceColorScheme="dark",
        )

    app.layout = first_layout

    @app.callback(
        Output("gridcc-page", "children"),
        Input("gridcc-url", "pathname"),
        State("gridcc-url", "search"),
        prevent_initial_call=True,  # the first layout holds the page already
    )
    def route(pathname: str | None, search: str | None) -> Any:
        return page_children(pathname, search)

    app.clientside_callback(  # a link to a page that needs a bundle this page left out: a full load
        ClientsideFunction("gridcc_page", "bundles"),
        Output("gridcc-bundles", "modified_timestamp"),
        Input("gridcc-url", "pathname"),
        State("gridcc-bundles", "data"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        "function (search) { var en = /[?&]lang=en/i.test(search || '');"
        " document.documentElement.lang = en ? 'en' : 'zh-CN'; return window.dash_clientside.no_update; }",
        Output("gridcc-url", "hash"),
        Input("gridcc-url", "search"),
    )
    register_map_callbacks(app)
    register_action_panel(app)  # the action panel that the case page, /duty and /overdue place
    for page in registry:
        if page.register is not None:
            page.register(app)
    return app


def trust_proxies(server: Any, hops: int) -> None:
    """Behind ``hops`` reverse proxies, ``request.remote_addr`` (the audit log, the sign-in limits) is the
    address the outermost of them saw, read from ``X-Forwarded-For`` (werkzeug's ``ProxyFix``); with 0
    the header is ignored, so a client cannot choose the address it is recorded under."""
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops)


def _local(app: dash.Dash, pathname: str) -> str:
    """A browser path without the app's path prefix: the path a page is registered under."""
    prefix = app.config.requests_pathname_prefix or "/"
    return "/" + pathname[len(prefix) :] if pathname.startswith(prefix) else pathname


def _compress(server: Any) -> None:
    """gzip/brotli the bundles (plotly alone is 4.8 MB), payloads and pages for clients that accept it."""
    from flask_compress import Compress

    server.config.setdefault(
        "COMPRESS_MIMETYPES",
        [
            "text/html",
            "text/css",
            "application/javascript",
            "text/javascript",
            "application/json",
            "application/x-protobuf",
            "application/octet-stream",
        ],
    )
    server.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    server.config.setdefault("COMPRESS_CACHE_BACKEND", None)
    Compress(server)
