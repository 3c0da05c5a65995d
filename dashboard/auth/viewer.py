"""Who is looking: the signed-in account of the current request, its scope and what it may do.

Sign-in is on by default. With ``settings.auth_required`` switched off (``GRIDCC_AUTH_REQUIRED=false``,
a closed kiosk network only), nobody is signed in and the helpers answer for an anonymous viewer: the
default scope, personal data masked, :func:`viewer_may` open (alert acknowledgements). Actions that need
a person (supervision cards, feed pauses, exports) check for a signed-in account themselves and are
refused then.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from flask import g, session

from data.auth import (
    Permission,
    is_display,
    may,
    may_see_personal,
    renew_session,
    scope_of,
    session_alive,
    session_lifetime,
)
from data.db import transaction
from data.models import UserAccount
from data.scope import AreaScope

from ..services import services
from .sessions import EPOCH, KEY, ROLE, SINCE, UID

_NONE = object()
WALL_RENEW_S = 24 * 3600  # a wall's session slides: renewed once a day while it is in use


def auth_required() -> bool:
    return bool(services().settings.auth_required)


def _load() -> UserAccount | None:
    uid = session.get(UID)
    if not isinstance(uid, int):
        return None
    with services().sessions() as db:
        user = db.get(UserAccount, uid)
        alive = user is not None and session_alive(db, session.get(KEY), user.id)
    if user is None or user.disabled or session.get(EPOCH) != user.session_epoch or not alive:
        return None
    since = session.get(SINCE)
    if not isinstance(since, (int, float)):
        return None
    age = time.time() - since
    if age > session_lifetime(user.role).total_seconds() or age < -60:
        return None
    if is_display(user.role) and age > WALL_RENEW_S:
        session[SINCE] = time.time()
        with transaction(services().sessions) as db:
            renew_session(db, session.get(KEY), datetime.now(UTC))
    if session.get(ROLE) != user.role:
        session[ROLE] = user.role  # the cookie's lifetime follows a role change
    return user


def current_user() -> UserAccount | None:
    """The signed-in account of this request (read once per request), or ``None``."""
    cached = g.get("gridcc_user", _NONE)
    if cached is _NONE:
        cached = _load()
        g.gridcc_user = cached
    return cast(UserAccount | None, cached)


def scope_for_request(default_scope: AreaScope | Callable[[], AreaScope]) -> AreaScope:
    """The area this request may see: the signed-in account's scope when sign-in is required (an
    empty scope, seeing nothing, for nobody), else ``default_scope`` (a scope or a function making
    one, called only when needed)."""
    if auth_required():
        user = current_user()
        return scope_of(user) if user is not None else AreaScope(frozenset())
    return default_scope() if callable(default_scope) else default_scope


def viewer_may(permission: Permission | str) -> bool:
    """Whether the viewer may do this. With sign-in switched off every action answers yes, except
    seeing personal data (callers of actions that need a person check for a signed-in account)."""
    if Permission(permission) is Permission.SEE_PERSONAL:
        return viewer_sees_personal()
    if not auth_required():
        return True
    user = current_user()
    return user is not None and may(user.role, permission)


def viewer_sees_personal() -> bool:
    """Whether phones and ID numbers may go to this viewer unmasked (never without a signed-in role
    that needs them; never to a wall)."""
    user = current_user() if auth_required() else None
    return user is not None and may_see_personal(user.role)


def viewer_name(default: str = "dashboard") -> str:
    """The name to write as the actor of an action (the account's user name)."""
    user = current_user()
    return user.username if user is not None else default


def phone_view() -> str:
    """How phones and ID numbers go to this viewer: ``"full"`` (a role that needs them), ``"none"`` (a
    wall: not even masked, nowhere in a payload) or ``"masked"`` (everyone else, and nobody signed in)."""
    if viewer_sees_personal():
        return "full"
    user = current_user() if auth_required() else None
    if user is not None and is_display(user.role):
        return "none"
    return "masked"
