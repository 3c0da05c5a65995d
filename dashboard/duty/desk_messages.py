"""The duty desk's answers in the page's language: a refusal of :mod:`data.desk` (its code and values)
or of the account (not permitted, not found) as a sentence from the catalogue (``desk_err_<code>``)."""

from __future__ import annotations

from data.auth import CaseNotFound, NotPermitted
from data.desk import AlertNotFound, DeskRefused

from ..i18n import t

FIELDS = ("title", "description", "address", "reporter_name", "reporter_phone", "reason", "lon", "lat")


def field_name(field: object, lang: str) -> str:
    return t(f"desk_field_{field}", lang) if field in FIELDS else str(field or "")


def refusal(error: Exception, lang: str) -> str:
    """Why the action was refused, for the officer."""
    if isinstance(error, NotPermitted):
        return t("desk_err_not_permitted", lang)
    if isinstance(error, AlertNotFound):
        return t("desk_err_alert_not_found", lang)
    if isinstance(error, CaseNotFound):
        return t("desk_err_not_permitted", lang)
    if isinstance(error, DeskRefused):
        values = {"field": field_name(error.values.get("field"), lang), "n": "", "limit": ""}
        values.update({k: v for k, v in error.values.items() if k in ("n", "limit")})
        return t(f"desk_err_{error.code}", lang, **values)
    return t("desk_err_failed", lang)
