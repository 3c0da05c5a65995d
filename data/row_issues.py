"""One problem of an import, kept as a reason code with its values and put in words only when shown.

The imports (``gridcc geo load``, ``gridcc staff load``, ``gridcc risks load``) check every row first and
report every problem with its row number. A problem is a :class:`RowIssue`: the row (None for the whole
file), what the row names (a grid code, a unit code, a 台账编号), and the reason as a code with values —
``RowIssue(3, "500151001001", "unknown_grid", {"grid": "500151001001"}, "grid")``. The words are the
catalogue's ``import_<reason>`` in the reader's language (:meth:`RowIssue.text`), so a test asserts on
the code and a district's admin reads 第 3 行（网格 500151001001）：未知网格编码…
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .text import DEFAULT, label, t

PREFIX = "import_"


@dataclass(frozen=True)
class Word:
    """A value that is itself a word of the catalogue: the label of ``code`` in ``kind``, inside a
    sentence (``a grid code has 15 digits`` / ``网格编码应为 15 位数字``)."""

    kind: str
    code: str

    def text(self, lang: str = DEFAULT) -> str:
        return label(self.kind, self.code, lang).lower()


@dataclass(frozen=True)
class Column:
    """A column a file lacks: its code and the other names its header may have, said the language's
    way (``phone (电话/手机)`` / ``电话/手机（phone）``)."""

    code: str
    names: tuple[str, ...] = ()

    def text(self, lang: str = DEFAULT) -> str:
        return (
            t("import_column", lang, code=self.code, names="/".join(self.names)) if self.names else self.code
        )


def key_of(reason: str) -> str:
    """The catalogue key of a reason code: ``bad_phone`` → ``import_bad_phone``."""
    return PREFIX + reason


@dataclass(frozen=True)
class RowIssue:
    """One problem: ``row`` is the file's row number (a spreadsheet's own, header = 1; a GIS file's
    1-based feature number), None for the whole file; ``key`` what the row names, shown after the row,
    with ``noun`` (``grid``, ``code``: the catalogue's ``import_key_<noun>``) before it when given."""

    row: int | None
    key: str | None
    reason: str
    values: Mapping[str, object] = field(default_factory=dict)
    noun: str | None = None

    def because(self, lang: str = DEFAULT) -> str:
        """The reason in words. A list value (the missing columns) is joined the language's way; a
        :class:`Word` or :class:`Column` is said in the language."""
        return t(key_of(self.reason), lang, **{k: _said(v, lang) for k, v in self.values.items()})

    def text(self, lang: str = DEFAULT) -> str:
        """``row 3 (grid 500151001001): <reason>`` / ``第 3 行（网格 500151001001）：<reason>``."""
        at = t("import_at_file", lang) if self.row is None else t("import_at_row", lang, row=self.row)
        if not self.key:
            return t("import_issue", lang, at=at, reason=self.because(lang))
        named = t(f"import_key_{self.noun}", lang, value=self.key) if self.noun else self.key
        return t("import_issue_named", lang, at=at, named=named, reason=self.because(lang))

    def __str__(self) -> str:
        return self.text()


def _said(value: object, lang: str) -> object:
    if isinstance(value, Word | Column):
        return value.text(lang)
    if isinstance(value, list | tuple):
        return t("import_list_sep", lang).join(str(_said(v, lang)) for v in value)
    return value


def issue_lines(errors: Iterable[RowIssue], warnings: Iterable[RowIssue], lang: str = DEFAULT) -> list[str]:
    """Every error and warning a line (``ERROR   row 3 …`` / ``错误  第 3 行…``) in row order, the file's
    own problems first; an error before a warning of the same row."""
    tagged = [("import_error_line", issue) for issue in errors] + [
        ("import_warning_line", issue) for issue in warnings
    ]
    tagged.sort(key=lambda item: -1 if item[1].row is None else item[1].row)
    return [t(tag, lang, issue=issue.text(lang)) for tag, issue in tagged]
