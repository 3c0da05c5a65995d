"""The model (SQLAlchemy 2.x typed declarative). Import tables from here."""

from .alerts import (
    ALERT_STATES,
    RISK_KINDS,
    RISK_LEVELS,
    SEVERITY_COLOUR,
    SEVERITY_RANK,
    Alert,
    AlertEvent,
    AlertGrid,
    Risk,
)
from .audit import AuditLog
from .base import Base, PlaceMixin, UTCDateTime, utcnow
from .calls import CALL_ANSWER_KINDS, CALL_STATES, AlertCall
from .case_daily import CaseDaily
from .cases import Case, CaseEvent
from .catalogue import PRIORITIES, Category, Department
from .feeds import Feed, FeedHealth, Quarantine
from .loop import (
    ANSWER_KINDS,
    INSTRUCTION_KINDS,
    OUTBOUND_KINDS,
    RECIPIENT_STATES,
    Answer,
    Instruction,
    OutboxMessage,
    Recipient,
)
from .merge import CaseMerge
from .places import CODE_LENGTH, LEVELS, PARENT_LEVEL, AdminUnit, GridStaff, level_of_code
from .push import PUSH_KINDS, PUSH_PROTOCOLS, PushKey
from .users import UserAccount, UserSession

__all__ = [
    "PUSH_KINDS",
    "PUSH_PROTOCOLS",
    "PushKey",
    "ALERT_STATES",
    "CALL_ANSWER_KINDS",
    "CALL_STATES",
    "ANSWER_KINDS",
    "INSTRUCTION_KINDS",
    "OUTBOUND_KINDS",
    "RECIPIENT_STATES",
    "CODE_LENGTH",
    "LEVELS",
    "PARENT_LEVEL",
    "PRIORITIES",
    "RISK_KINDS",
    "RISK_LEVELS",
    "SEVERITY_COLOUR",
    "SEVERITY_RANK",
    "AdminUnit",
    "Alert",
    "AlertCall",
    "AlertEvent",
    "AlertGrid",
    "Answer",
    "AuditLog",
    "Base",
    "Case",
    "CaseDaily",
    "CaseMerge",
    "CaseEvent",
    "Category",
    "Department",
    "Feed",
    "FeedHealth",
    "GridStaff",
    "Instruction",
    "OutboxMessage",
    "PlaceMixin",
    "Quarantine",
    "Recipient",
    "Risk",
    "UTCDateTime",
    "UserAccount",
    "UserSession",
    "level_of_code",
    "utcnow",
]
