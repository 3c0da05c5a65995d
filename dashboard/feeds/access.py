"""Who sees what of ``/feeds``: decided on the server for every render, refresh and payload request.

| viewer | feeds shown | RQ queues, worker names | quarantine list | a quarantined payload |
|---|---|---|---|---|
| wall | those concerning its area (all, for the whole deployment) | no | no | no |
| duty officer, leader, of a part of the deployment | those concerning the area | no | no | no |
| duty officer of the whole deployment | all | no | yes | raw (personal data in full), each view audited |
| leader of the whole deployment | all | no | no | no |
| admin | all | yes | yes | masked (an admin may not see personal data) |
| nobody signed in (sign-in off: a closed kiosk network) | all | yes | yes | masked |

A feed *concerns* an area when one of its cases or alerts lies in it (:func:`data.queries.feeds_in_scope`).
The quarantine's records were never placed, so they are shown only to a viewer of the whole deployment
(every district in the database) or an admin. Every text of the page — a feed's last error, a
quarantine reason, a payload — has its secrets redacted (:func:`data.redact.redact_text`: ``api_key``,
tokens, passwords in URLs) and its phones and ID numbers masked in the viewer's mode
(:func:`data.masking.mask_personal_text`); only the raw payload view (personal data in full, to a role
that may see it) writes a ``personal_view`` audit row, target ``quarantine:<id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from data.auth import Permission, may, may_see_personal
from data.masking import mask_personal_text
from data.redact import redact_payload
from data.scope import AreaScope

from ..auth import auth_required, current_user
from ..personal import text_mode
from ..scope import deployment_scope

_CUT_NUMBER = re.compile(r"[0-9Xx+\-()（） ]+…$")


def without_cut_number(text: str) -> str:
    """A payload cut for display (ending in ``…``) without the digits right before the cut: a phone or
    ID number cut in two is too short for the masking to recognise, and its first digits would show."""
    return _CUT_NUMBER.sub("…", text) if text.endswith("…") else text


@dataclass(frozen=True)
class FeedsAccess:
    mode: str  # how phones and ID numbers in the page's texts go: "full", "masked" or "none"
    whole: bool  # the viewer's scope covers the whole deployment
    area_only: bool  # only the feeds concerning the viewer's area (else every feed)
    rq: bool  # the RQ queues and workers (worker names)
    quarantine: bool  # the quarantine list (time, feed, id, reason, a masked preview)
    raw_payloads: bool  # a payload as it came (personal data in full), each view audited
    manage: bool  # pause / resume buttons

    def text(self, value: str | None) -> str:
        """A text of the page (an error, a reason) as this viewer may see it: secrets redacted, phones
        and ID numbers in the page's mode (never in full: those go only through the audited view)."""
        clean = without_cut_number(value or "")
        return mask_personal_text(redact_payload(clean), "masked" if self.mode == "full" else self.mode)

    def payload(self, raw: str | None) -> str:
        """A quarantined payload for the payload view: as it came (secrets redacted) when this viewer
        may see personal data, else masked like :meth:`text`."""
        if self.raw_payloads:
            return mask_personal_text(redact_payload(raw), "full")
        return self.text(raw)


NOTHING = FeedsAccess("none", False, True, False, False, False, False)


def covers_deployment(scope: AreaScope) -> bool:
    """Whether ``scope`` holds every district of the deployment (the database's districts)."""
    whole = deployment_scope()
    return bool(scope.codes) and all(scope.contains(code) for code in whole.codes)


def feeds_access(scope: AreaScope) -> FeedsAccess:
    """What of ``/feeds`` the viewer of this request with ``scope`` may see (see the module's table)."""
    if not auth_required():
        return FeedsAccess("masked", True, False, True, True, False, False)
    user = current_user()
    if user is None:
        return NOTHING
    mode = text_mode()
    whole = covers_deployment(scope)
    if may(user.role, Permission.MANAGE_FEEDS):
        raw = whole and may_see_personal(user.role)
        return FeedsAccess(mode, whole, False, True, True, raw, True)
    if whole and may_see_personal(user.role):
        return FeedsAccess(mode, whole, False, False, True, True, False)
    return FeedsAccess(mode, whole, not whole, False, False, False, False)


__all__ = [
    "NOTHING",
    "FeedsAccess",
    "covers_deployment",
    "feeds_access",
    "redact_payload",
    "without_cut_number",
]
