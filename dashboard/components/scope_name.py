"""The name of an area scope for a title: its units' names, or the first few and how many more."""

from __future__ import annotations

from collections.abc import Sequence

from data.text import t

SHOWN = 3


def scope_name(names: Sequence[str], lang: str, shown: int = SHOWN) -> str:
    """``铜梁区`` · ``铜梁区、大足区`` · ``万州区、涪陵区、渝中区等38个区域``
    (en: ``Wanzhou, Fuling, Yuzhong and 35 more``).

    A wall title must fit one line at five metres; a city scope names 38 districts."""
    names = [n for n in names if n]
    sep = t("list_sep", lang)
    if len(names) <= shown + 1:
        return sep.join(names)
    return t("scope_more", lang, names=sep.join(names[:shown]), n=len(names), more=len(names) - shown)
