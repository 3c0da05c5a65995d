"""The ids of the ledger screen's components (one screen: plain string ids)."""

from __future__ import annotations

DIALOG = "risks-dialog"
MODE = "risks-mode"  # {"mode": create | edit | assign | close, "risk": id}: the server checks it again
TOKEN = "risks-token"  # noqa: S105 (an id, not a secret) the form's once-only token
MESSAGE = "risks-message"
SUBMIT = "risks-submit"
CANCEL = "risks-cancel"
NEW = "risks-new"
OPEN_REQUEST = "risks-open-request"
DONE = "risks-done"  # written after a change: the table refreshes
RESULT = "risks-result"
TABLE = "risks-table-box"
COUNT = "risks-count"
UPLOAD = "risks-upload"
UPLOAD_REPORT = "risks-upload-report"
STREET, COMMUNITY, GRID = "risks-f-street", "risks-f-community", "risks-f-grid"
KIND, LEVEL = "risks-f-kind", "risks-f-level"
TITLE, DUE, MEASURES, DESCRIPTION = "risks-f-title", "risks-f-due", "risks-f-measures", "risks-f-description"
OWNER, PERSON, PHONE = "risks-f-owner", "risks-f-person", "risks-f-phone"
DONE_MEASURES, EVIDENCE = "risks-f-done", "risks-f-evidence"
# every field, in the order the callbacks pass them (and the server's names for them)
FIELDS = {
    KIND: "kind",
    LEVEL: "level",
    TITLE: "title",
    STREET: "street",
    COMMUNITY: "community",
    GRID: "grid",
    DUE: "due",
    MEASURES: "measures",
    DESCRIPTION: "description",
    OWNER: "owner",
    PERSON: "owner_person",
    PHONE: "owner_phone",
    DONE_MEASURES: "done",
    EVIDENCE: "evidence",
}
