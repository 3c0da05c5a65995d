"""Accounts, roles, area scopes, sign-in with lock-out, wall links, supervision and the audit log.

The web layer (``dashboard.auth``) and the console (``gridcc users``, ``gridcc audit``) both use these;
nothing here knows about Flask or Dash.
"""

from .audit import ACTIONS, audit, audit_rows
from .links import make_wall_link, revoke_wall_link, user_for_link
from .passwords import WeakPassword, hash_password, verify_password
from .roles import (
    PERMISSIONS,
    Permission,
    Role,
    is_display,
    longest_session,
    may,
    may_see_personal,
    parse_role,
    role_label,
    session_lifetime,
)
from .signin import DEFAULT_POLICY, LockoutPolicy, authenticate, locked
from .supervision import CARDS, CaseNotFound, NotPermitted, cancel_supervision, supervise
from .user_sessions import close_session, close_sessions, open_session, renew_session, session_alive
from .users import (
    UserError,
    create_user,
    disable_user,
    get_user,
    list_users,
    parse_scope,
    scope_of,
    set_password,
    set_role,
    set_scope,
)

__all__ = [
    "ACTIONS",
    "CARDS",
    "DEFAULT_POLICY",
    "PERMISSIONS",
    "CaseNotFound",
    "LockoutPolicy",
    "NotPermitted",
    "Permission",
    "Role",
    "UserError",
    "WeakPassword",
    "audit",
    "audit_rows",
    "authenticate",
    "cancel_supervision",
    "close_session",
    "close_sessions",
    "create_user",
    "disable_user",
    "get_user",
    "hash_password",
    "list_users",
    "locked",
    "make_wall_link",
    "may",
    "may_see_personal",
    "open_session",
    "parse_role",
    "parse_scope",
    "role_label",
    "renew_session",
    "revoke_wall_link",
    "scope_of",
    "session_alive",
    "is_display",
    "longest_session",
    "session_lifetime",
    "set_password",
    "set_role",
    "set_scope",
    "supervise",
    "user_for_link",
    "verify_password",
]
