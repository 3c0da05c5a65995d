"""Password hashing with argon2 (argon2-cffi), rehashed on sign-in when the parameters move on."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps a megabyte "password" from costing a request


class WeakPassword(ValueError):
    """The password is too short, too long or otherwise unusable (the message says why)."""


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The one hasher (argon2id with argon2-cffi's current recommended parameters)."""
    return PasswordHasher()


def check_strength(password: str) -> None:
    """Raise :class:`WeakPassword` for a password the project refuses to store."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password too short: at least {MIN_LENGTH} characters (密码至少 {MIN_LENGTH} 位)")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password too long: at most {MAX_LENGTH} characters")
    if password.strip() != password:
        raise WeakPassword("password starts or ends with white space (密码首尾不能有空格)")


def hash_password(password: str) -> str:
    check_strength(password)
    return hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches; with a fresh hash when the stored one uses outdated parameters."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if hasher().check_needs_rehash(stored_hash):
        return True, hasher().hash(password)
    return True, None


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash no password matches in practice: refusals verify against it, so an unknown or locked
    account costs the time of a real check (timing does not tell which names exist)."""
    return hasher().hash("no such user: constant-time refusal")
