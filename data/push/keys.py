"""Push keys: made (the token shown once), listed, revoked — each change audited — and checked.

A token is ``gcp_`` + 32 random bytes (URL-safe base64). Only its sha256 is stored (``push_key``)
with its first characters for display; a presented token is hashed and looked up, and a revoked key
is refused like an unknown one.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from data.auth.audit import audit
from data.models import PUSH_KINDS, PUSH_PROTOCOLS, PushKey, utcnow

TOKEN_PREFIX = "gcp_"  # noqa: S105 - the tokens' visible prefix, not a secret
PREFIX_SHOWN = 10  # characters of the token kept for display ("gcp_AbCdEf")
NAME = re.compile(r"^[a-z0-9_-]{1,60}$")
DEFAULT_RATE = 120  # requests per minute
DEFAULT_MAX_BODY = 256 * 1024  # bytes


class PushKeyError(ValueError):
    """A key cannot be made or revoked as asked; the message says why."""


@dataclass(frozen=True)
class NewKey:
    key: PushKey
    token: str  # shown once


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()


def create_key(
    session: Session,
    name: str,
    kind: str,
    owner: str,
    feed_name: str,
    protocols: tuple[str, ...],
    *,
    actor: str,
    rate_per_minute: int = DEFAULT_RATE,
    max_body_bytes: int = DEFAULT_MAX_BODY,
) -> NewKey:
    """Make a key (audited ``push_key_create``); the token is returned once and never stored."""
    if not NAME.match(name):
        raise PushKeyError(f"key name {name!r}: use 1–60 of a-z, 0-9, _ and -")
    if kind not in PUSH_KINDS:
        raise PushKeyError(f"kind {kind!r}: one of {', '.join(PUSH_KINDS)}")
    unknown = [p for p in protocols if p not in PUSH_PROTOCOLS]
    if unknown or not protocols:
        raise PushKeyError(f"protocols {','.join(protocols)!r}: one or more of {', '.join(PUSH_PROTOCOLS)}")
    if not owner.strip() or not feed_name.strip():
        raise PushKeyError("a key needs its department code or app name, and the feed it writes to")
    if rate_per_minute < 1 or max_body_bytes < 1024:
        raise PushKeyError("rate limit at least 1 a minute, body limit at least 1024 bytes")
    if session.scalar(select(PushKey.id).where(PushKey.name == name)) is not None:
        raise PushKeyError(f"a key named {name!r} exists already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = PushKey(
        name=name, kind=kind, owner=owner.strip(), feed_name=feed_name.strip(),
        protocols=",".join(dict.fromkeys(protocols)), key_hash=hash_token(token),
        key_prefix=token[:PREFIX_SHOWN], rate_per_minute=rate_per_minute,
        max_body_bytes=max_body_bytes, created_at=utcnow(), created_by=actor,
    )  # fmt: skip
    session.add(key)
    session.flush()
    detail = f"{kind} {owner} → feed {feed_name}; {key.protocols}; {rate_per_minute}/min, {max_body_bytes} B"
    audit(session, actor, "push_key_create", f"push_key:{name}", detail)
    return NewKey(key, token)


def list_keys(session: Session) -> list[PushKey]:
    return list(session.scalars(select(PushKey).order_by(PushKey.name)))


def get_key(session: Session, name: str) -> PushKey | None:
    return session.scalar(select(PushKey).where(PushKey.name == name))


def revoke_key(session: Session, name: str, *, actor: str) -> PushKey:
    """Revoke a key (audited ``push_key_revoke``): it is refused from then on."""
    key = get_key(session, name)
    if key is None:
        raise PushKeyError(f"no key named {name!r}")
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = utcnow(), actor
        audit(session, actor, "push_key_revoke", f"push_key:{name}", key.key_prefix)
    return key


def authenticate(session: Session, token: str | None) -> PushKey | None:
    """The live key ``token`` is, or None (unknown, malformed or revoked: all refused alike)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    key = session.scalar(select(PushKey).where(PushKey.key_hash == hash_token(token)))
    if key is None or key.revoked_at is not None:
        return None
    return key
