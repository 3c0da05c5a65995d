"""The stale-data banner: names every feed that is stale or failing; a quiet "all OK" otherwise."""

from __future__ import annotations

from typing import Any

from dash import html

from data.queries import label

from ..i18n import t
from . import format as fmt


def banner(feeds: dict[str, Any] | None, lang: str, tz: str) -> tuple[list[Any], str]:
    """(children, className) of ``#wall-banner``."""
    feeds = feeds or {}
    bad = feeds.get("bad", [])
    if not bad:
        total = int(feeds.get("total", 0))
        if not total:
            return [], "wall-banner empty"
        return [html.Span(t("wall_banner_ok", lang, n=total), className="banner-ok")], "wall-banner ok"
    parts: list[Any] = [html.Span(t("wall_banner_bad", lang), className="banner-head")]
    for feed in bad:
        when = feed.get("last_success")
        since = (
            t("wall_feed_last_ok", lang, time=fmt.local_time(when, tz, with_date=True))
            if when
            else t("wall_feed_never_ok", lang)
        )
        parts.append(
            html.Span(
                [
                    html.B(str(feed.get("department") or feed.get("name", ""))),
                    f" {label('feed_status', feed.get('status'), lang)} · {since}",
                ],
                className=f"banner-feed status-{feed.get('status')}",
                **fmt.data_attr("feed", feed.get("name", "")),
            )
        )
    return parts, "wall-banner bad"
