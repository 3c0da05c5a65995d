"""What a starting web server says about sign-in, and the sign-in page's first-admin hint.

Sign-in is on by default. A fresh installation has no account, so nobody could sign in: the server's
log and the sign-in page both say how to add the first admin. With sign-in switched off
(``GRIDCC_AUTH_REQUIRED=false``, meant only for a closed kiosk network) the log says so loudly.
"""

from __future__ import annotations

import logging

from sqlalchemy import exists, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from data.db import make_engine
from data.models import UserAccount
from data.settings import Settings

log = logging.getLogger("gridcc.web")

FIRST_ADMIN = "gridcc users add admin --role admin --scope {district}"


def first_admin_command(settings: Settings) -> str:
    """The console command that adds the first admin (for the installation's district)."""
    return FIRST_ADMIN.format(district=settings.default_district)


def any_account(session: Session) -> bool:
    return bool(session.scalar(select(exists().where(UserAccount.id.is_not(None)))))


def _any_admin(session: Session) -> bool:
    stmt = select(exists().where(UserAccount.role == "admin", UserAccount.disabled.is_(False)))
    return bool(session.scalar(stmt))


def startup_notes(settings: Settings) -> list[str]:
    """What the web server should tell its operator on start (empty when all is as it should be)."""
    if not settings.auth_required:
        return [
            "!!! SIGN-IN IS OFF (GRIDCC_AUTH_REQUIRED=false) !!! Anyone who reaches this server sees the "
            "whole district (phones masked) and may acknowledge alerts; nothing is exported and no action "
            "is written as a person. Use this only on a closed kiosk network; everywhere else leave "
            "GRIDCC_AUTH_REQUIRED unset (it defaults to true)."
        ]
    command = first_admin_command(settings)
    try:
        engine = make_engine(settings)
    except (SQLAlchemyError, OSError) as exc:
        return [f"sign-in is required, but the accounts could not be read ({exc})"]
    try:
        if not inspect(engine).has_table(UserAccount.__tablename__):
            return [
                "sign-in is required and the database has no schema yet: run `gridcc migrate`, then add "
                f"the first admin: `{command}` (it asks for the password; --password-stdin reads it "
                "from a pipe)"
            ]
        with Session(engine) as session:
            if not any_account(session):
                return [
                    "sign-in is required and no account exists yet, so nobody can sign in. Add the first "
                    f"admin on this machine: `{command}` (it asks for the password; --password-stdin "
                    "reads it from a pipe); then `gridcc users add` the others (README: Roles and sign-in)"
                ]
            if not _any_admin(session):
                return [
                    "no enabled admin account: add one with "
                    f"`{command.replace(' admin ', ' <name> ', 1)}` or re-enable one with "
                    "`gridcc users disable <name> --enable`"
                ]
    except SQLAlchemyError as exc:
        return [f"sign-in is required, but the accounts could not be read ({exc})"]
    finally:
        engine.dispose()
    return []


def log_startup_notes(settings: Settings) -> list[str]:
    """Log :func:`startup_notes` as warnings; returns them."""
    notes = startup_notes(settings)
    for note in notes:
        log.warning("gridcc web: %s", note)
    return notes
