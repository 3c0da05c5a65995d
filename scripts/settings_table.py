"""Print the README's settings table from the Settings model (run: python scripts/settings_table.py)."""

from __future__ import annotations

from data.settings import Settings


def rows() -> list[tuple[str, str, str]]:
    out = []
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "" if default in (None, "") else str(default)
        out.append((f"GRIDCC_{name.upper()}", shown, field.description or ""))
    return out


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for var, default, desc in rows():
        lines.append(f"| `{var}` | {f'`{default}`' if default else '(empty)'} | {desc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
