"""The top bar of the case and feeds pages: a back link, the title, the 中文/English switch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import html

from ..i18n import t
from ..urls import Urls
from .search_box import top_search
from .user_menu import user_menu


def lang_href(base_path: str, path: str, query: Mapping[str, str], lang: str) -> str:
    """The same page in ``lang`` (other query parameters kept)."""
    return Urls(base_path).switch(path, query, lang)


def lang_switch(base_path: str, path: str, query: Mapping[str, str], lang: str) -> html.Div:
    """Both languages as links, the current one marked."""
    return html.Div(
        [
            html.A(
                t(key, lang),
                href=lang_href(base_path, path, query, code),
                className="lang-option" + (" current" if code == lang else ""),
                lang=code,
            )
            for code, key in (("zh-CN", "lang_zh"), ("en", "lang_en"))
        ],
        className="page-lang-switch",
    )


def top_bar(
    title: Any, lang: str, back_href: str, back_key: str, switch: html.Div, extra: Any = None
) -> html.Div:
    """Back link left, title, optional extra (e.g. the "as of" time), the case search, the signed-in
    account, language switch right."""
    children: list[Any] = [
        html.A(t(back_key, lang), href=back_href, className="page-back"),
        html.H1(title, className="page-title"),
    ]
    if extra is not None:
        children.append(html.Div(extra, className="page-extra"))
    find = top_search(lang)
    if find is not None:
        children.append(find)
    who = user_menu(lang)
    if who is not None:
        children.append(who)
    children.append(switch)
    return html.Div(children, className="page-top")
