"""Masking of personal data (phones, ID numbers) for display."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str:
    """138****5678 for an 11-digit mobile; keep the first 3 and last 4 digits of anything else."""
    if not phone:
        return ""
    digits = "".join(_DIGITS.findall(phone))
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_id_number(value: str | None) -> str:
    """A resident ID number: keep the first 6 and last 4 characters."""
    if not value:
        return ""
    value = value.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"
