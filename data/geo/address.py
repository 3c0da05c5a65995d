"""Find the most specific street or community named in a free-text address.

Each unit is known by its full name and by shorter forms: "东方广场社区居民委员会" also as "东方广场社区"
and "东方广场"; "高笋塘街道" also as "高笋塘"; "大庙镇" as "大庙". A form with its level word (社区, 村,
街道, 镇, 乡) is a *marked* match, the bare core is unmarked. The lookup takes every substring of the
address and looks it up in a dict, so it costs the same for one district or the whole city.

Ranking of the candidates found (best first): a match that lies inside a longer match of another
unit is dropped ("太白" inside "太白街道"); a bare core counts only when its parent is named too ("中兴" in
"中兴路12号" is a road, not 中兴社区); then by how well it is confirmed (marked form, parent named), by
level (community before street), by length, and by code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIN_CORE = 2
STREET_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
COMMUNITY_SUFFIXES = (
    "社区居民委员会",
    "村民委员会",
    "居民委员会",
    "社区工作站",
    "社区",
    "村",
    "居委会",
    "村委会",
)
DISTRICT_SUFFIXES = ("区", "县", "自治县")
_LEVEL_RANK = {"street": 0, "community": 1}


@dataclass(frozen=True)
class _Form:
    code: str
    level: str
    marked: bool


def name_forms(name: str, level: str) -> dict[str, bool]:
    """Every form a unit may be written as, with whether it keeps its level word."""
    name = name.strip()
    forms = {name: True}
    suffixes = STREET_SUFFIXES if level == "street" else COMMUNITY_SUFFIXES
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= MIN_CORE:
            stem = name[: -len(suffix)]
            forms.setdefault(stem, False)
            if level == "community" and suffix in ("村民委员会", "村委会") and stem.endswith("村"):
                # "太白村村民委员会" → "太白村" (marked) and "太白" (bare)
                forms[stem] = True
                if len(stem) - 1 >= MIN_CORE:
                    forms.setdefault(stem[:-1], False)
            elif level == "community" and suffix in ("居民委员会", "社区工作站") and stem.endswith("社区"):
                forms[stem] = True
    return forms


class AddressMatcher:
    """Built once from (code, name, level) of streets and communities, and district names."""

    def __init__(self, units: Iterable[tuple[str, str, str]]) -> None:
        self._forms: dict[str, list[_Form]] = {}
        self._district_names: dict[str, str] = {}
        for code, name, level in units:
            if level == "district":
                self._district_names.setdefault(name, code)
                for suffix in DISTRICT_SUFFIXES:
                    if name.endswith(suffix) and len(name) - len(suffix) >= MIN_CORE:
                        self._district_names.setdefault(name[: -len(suffix)], code)
                continue
            if level not in _LEVEL_RANK:
                continue
            for form, marked in name_forms(name, level).items():
                self._forms.setdefault(form, []).append(_Form(code, level, marked))
        lengths = [len(f) for f in self._forms] + [len(d) for d in self._district_names]
        self._longest = max(lengths, default=0)

    def _spans(self, text: str) -> list[tuple[int, int, _Form]]:
        found = []
        for start in range(len(text)):
            for end in range(start + MIN_CORE, min(len(text), start + self._longest) + 1):
                for form in self._forms.get(text[start:end], ()):
                    found.append((start, end, form))
        return found

    def _districts_named(self, text: str) -> set[str]:
        return {code for name, code in self._district_names.items() if name in text}

    def find(self, text: str | None) -> str | None:
        """The code of the best street or community named in ``text``, or None."""
        if not text:
            return None
        text = "".join(text.split())
        spans = self._spans(text)
        if not spans:
            return None
        kept = [
            (s, e, f)
            for s, e, f in spans
            if not any(
                s2 <= s and e <= e2 and (e2 - s2) > (e - s) and f2.code != f.code for s2, e2, f2 in spans
            )
        ]
        named = {f.code for _, _, f in kept} | self._districts_named(text)

        def score(item: tuple[int, int, _Form]) -> tuple[int, int, int, str]:
            start, end, form = item
            parent = form.code[:9] if form.level == "community" else form.code[:6]
            confirmed = int(form.marked) + int(parent in named)
            # higher is better, except the code: the smallest wins ties
            return (confirmed, _LEVEL_RANK[form.level], end - start, _invert(form.code))

        confirmed = [item for item in kept if score(item)[0] > 0]
        return max(confirmed, key=score)[2].code if confirmed else None


def _invert(code: str) -> str:
    """A string that sorts in the reverse order of ``code`` (for max() to prefer the smallest code)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in code)
