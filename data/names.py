"""The names people use for units: "东方广场社区居民委员会" is 东方广场社区, "太白村村民委员会" is 太白村,
and a grid is named with its community ("太白村 第7网格"), since "第7网格" alone repeats in every one."""

from __future__ import annotations

from collections.abc import Mapping

COMMITTEE_SUFFIXES = ("居民委员会", "村民委员会", "工作站")  # "城南社区工作站": 城南社区


def community_short_name(name: str) -> str:
    """ "东方广场社区居民委员会" → "东方广场社区", "太白村村民委员会" → "太白村" (a name that is only a
    suffix stays as it is)."""
    for suffix in COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def place_name(code: str | None, names: Mapping[str, str]) -> str:
    """A unit's display name from ``names`` (code → official name): a grid as "太白村 第7网格", a
    community by its short name, others as named; "" for an unknown code."""
    name = names.get(code or "", "")
    if not code or not name:
        return name
    if len(code) == 12:
        return community_short_name(name)
    if len(code) == 15 and code[:12] in names:
        community = community_short_name(names[code[:12]])
        return name if name.startswith(community) else f"{community} {name}"
    return name
