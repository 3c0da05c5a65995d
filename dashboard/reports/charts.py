"""The report's charts as plain SVG text: one drawing for the screen (as an ``<img>`` of a ``data:`` URL)
and the print view (inline), so the two show the same picture and the PDF needs no script.

Every name drawn (units, categories) is escaped; a chart with nothing to draw says so.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape

from data.queries.reports import Bucket, LevelShare, Scorecard
from data.report_book import shown
from data.text import t

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"


@dataclass(frozen=True)
class Palette:
    text: str
    muted: str
    grid: str
    received: str
    closed: str
    levels: tuple[str, str, str]


DARK = Palette("#e6edf7", "#9fb0c8", "#24324a", "#38b6ff", "#3ddc84", ("#3ddc84", "#ffb020", "#ff4d4f"))
LIGHT = Palette("#111111", "#555555", "#dddddd", "#1f6fb5", "#2e9d5b", ("#2e9d5b", "#d18b00", "#c62828"))


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _svg(width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{FONT}">' + "".join(body) + "</svg>"
    )


def _empty(width: int, height: int, lang: str, p: Palette) -> str:
    return _svg(width, height, [
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{p.muted}" '
        f'font-size="16">{escape(t("report_none", lang))}</text>'
    ])  # fmt: skip


def _legend(x: float, y: float, items: list[tuple[str, str]], p: Palette, size: int = 14) -> list[str]:
    out = []
    for name, colour in items:
        out.append(f'<rect x="{x}" y="{y - size + 3}" width="{size}" height="{size - 2}" fill="{colour}"/>')
        out.append(
            f'<text x="{x + size + 6}" y="{y}" fill="{p.text}" font-size="{size}">{escape(name)}</text>'
        )
        x += size + 12 + len(name) * size * 0.95
    return out


def trend_svg(buckets: list[Bucket], lang: str, p: Palette, width: int = 900, height: int = 330) -> str:
    """Received and closed per bucket (day or month) as paired bars, with a value axis."""
    if not buckets or not any(b.received or b.closed for b in buckets):
        return _empty(width, height, lang, p)
    left, right, top, bottom = 44, 12, 34, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(max(b.received, b.closed) for b in buckets) or 1
    step = plot_w / len(buckets)
    bar = max(1.0, step * 0.38)
    body = _legend(left, 18, [(t("report_kpi_received", lang), p.received),
                              (t("report_kpi_closed", lang), p.closed)], p)  # fmt: skip
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{p.grid}"/>')
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{p.muted}" '
                    f'font-size="12">{round(value)}</text>')  # fmt: skip
    every = max(1, round(len(buckets) / 10))
    for i, b in enumerate(buckets):
        x = left + i * step + step / 2
        for value, colour, dx in ((b.received, p.received, -bar), (b.closed, p.closed, 0.0)):
            h = plot_h * value / peak
            body.append(f'<rect x="{x + dx:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                        f'height="{h:.1f}" fill="{colour}"/>')  # fmt: skip
        if i % every == 0:
            text = b.label[5:] if len(b.label) == 10 else b.label
            body.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{p.muted}" '
                        f'font-size="12">{escape(text)}</text>')  # fmt: skip
    return _svg(width, height, body)


def levels_svg(levels: list[LevelShare], lang: str, p: Palette, width: int = 900, height: int = 120) -> str:
    """The share resolved at each level as one bar of three parts, each with its figure."""
    total = sum(s.closed for s in levels)
    if not total:
        return _empty(width, height, lang, p)
    left, bar_y, bar_h = 10, 40, 36
    plot_w = width - 2 * left
    body = _legend(left, 20, [(t(f"report_level_{s.level}", lang), c)
                              for s, c in zip(levels, p.levels, strict=False)], p)  # fmt: skip
    x = float(left)
    for share, colour in zip(levels, p.levels, strict=False):
        w = plot_w * share.closed / total
        if w <= 0:
            continue
        body.append(f'<rect x="{x:.1f}" y="{bar_y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>')
        if w > 60:
            body.append(
                f'<text x="{x + w / 2:.1f}" y="{bar_y + 24}" text-anchor="middle" fill="#0b0f17" '
                f'font-size="16" font-weight="700">{escape(shown("rate", share.share, lang))}</text>'
            )
        x += w
    body.append(f'<text x="{left}" y="{bar_y + bar_h + 28}" fill="{p.muted}" font-size="14">'
                f'{escape(t("report_col_closed", lang))}: {total}</text>')  # fmt: skip
    return _svg(width, height, body)


def units_svg(rows: list[Scorecard], lang: str, p: Palette, width: int = 900, limit: int = 20) -> str:
    """Received (and closed, over it) per unit, most received first, at most ``limit`` units."""
    rows = sorted(rows, key=lambda s: (-s.figures.received, s.code))[:limit]
    row_h, left, top = 26, 170, 30
    height = top + row_h * max(1, len(rows)) + 10
    if not rows or not any(s.figures.received for s in rows):
        return _empty(width, 120, lang, p)
    peak = max(s.figures.received for s in rows) or 1
    plot_w = width - left - 70
    body = _legend(left, 18, [(t("report_kpi_received", lang), p.received),
                              (t("report_kpi_closed", lang), p.closed)], p)  # fmt: skip
    for i, s in enumerate(rows):
        y = top + i * row_h
        name = s.name if len(s.name) <= 10 else s.name[:9] + "…"
        body.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" fill="{p.text}" '
                    f'font-size="14">{escape(name)}</text>')  # fmt: skip
        w_r = plot_w * s.figures.received / peak
        w_c = plot_w * s.figures.closed / peak
        body.append(f'<rect x="{left}" y="{y + 3}" width="{w_r:.1f}" height="18" fill="{p.received}"/>')
        body.append(f'<rect x="{left}" y="{y + 8}" width="{w_c:.1f}" height="8" fill="{p.closed}"/>')
        body.append(f'<text x="{left + w_r + 6:.1f}" y="{y + 17}" fill="{p.muted}" font-size="13">'
                    f"{s.figures.received}</text>")  # fmt: skip
    return _svg(width, height, body)
