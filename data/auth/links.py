"""Sign-in links for wall displays: ``/signin/token/<token>`` signs an unattended wall in.

A token is ``<user id>.<nonce>.<signature>``: the nonce is random and stored on the account
(``link_nonce``), the signature an HMAC-SHA256 of both under the app's secret key. Making a new link
replaces the nonce (the old link stops working, and the sessions opened with a link end on the
server); revoking clears it and ends all the wall's sessions.
Only enabled accounts of role ``wall`` can use a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from data.models import UserAccount, utcnow

from .audit import audit
from .roles import Role
from .user_sessions import close_sessions
from .users import UserError, get_user


def _sign(secret: str, user_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"gridcc-wall-link:{user_id}.{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def make_wall_link(
    session: Session, username: str, secret: str, *, actor: str = "system", now: datetime | None = None
) -> str:
    """A new sign-in token for the wall account ``username`` (any earlier one stops working)."""
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no such user: {username!r}")
    if user.role != Role.WALL.value:
        raise UserError(f"{username!r} is a {user.role} account: only wall accounts get sign-in links")
    if user.disabled:
        raise UserError(f"{username!r} is disabled")
    nonce = secrets.token_urlsafe(24)
    user.link_nonce = nonce
    close_sessions(session, user, via="link")  # screens signed in with the old link must use the new one
    audit(
        session,
        actor,
        "wall_link",
        f"user:{username}",
        "new link (earlier ones revoked)",
        "",
        now or utcnow(),
    )
    return f"{user.id}.{nonce}.{_sign(secret, user.id, nonce)}"


def revoke_wall_link(
    session: Session, username: str, *, actor: str = "system", now: datetime | None = None
) -> None:
    """No link works for ``username`` any more, and its open sessions end."""
    user = get_user(session, username)
    if user is None:
        raise UserError(f"no such user: {username!r}")
    user.link_nonce = None
    user.session_epoch += 1
    close_sessions(session, user)
    audit(session, actor, "wall_link_revoke", f"user:{username}", "", "", now or utcnow())


def user_for_link(session: Session, token: str, secret: str) -> UserAccount | None:
    """The wall account a token signs in, or ``None`` for a forged, revoked or unusable one."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(token) > 200:
        return None
    user_id, nonce, signature = int(parts[0]), parts[1], parts[2]
    if not hmac.compare_digest(signature.encode(), _sign(secret, user_id, nonce).encode()):
        return None
    user = session.get(UserAccount, user_id)
    if user is None or user.disabled or user.role != Role.WALL.value or not user.link_nonce:
        return None
    if not hmac.compare_digest(user.link_nonce.encode(), nonce.encode()):
        return None
    return user
