"""The feeds file (TOML): one ``[[feed]]`` entry per department feed, validated with pydantic.

```toml
[[feed]]
name = "hotline12345"
department = "hotline12345"
protocol = "open311"            # open311 | cap | sensor (any registered: workers.feeds.registry)
url = "http://127.0.0.1:8600/requests.xml"
interval = 5                    # seconds between polls (>= 1)
enabled = true                  # optional
timeout = 10                    # optional, seconds
page_size = 200                 # optional, open311 only
api_key_env = "HOTLINE_API_KEY" # optional: NAME of the env var holding the Open311 api_key
username_env = "..."            # optional: names of env vars for HTTP basic auth
password_env = "..."
allow_hosts = ["cdn.example.org"]  # optional: other hosts its documents and redirects may be on
```

A feed fetches only from its own host (that of ``url``) and the hosts ``allow_hosts`` names, and no
loopback, link-local or private address unless its own host is one (:mod:`.outbound`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from data.auth.audit import audit
from data.models import Feed
from data.redact import redact_url
from data.seed import load_catalogue

from . import registry
from .outbound import Outbound


class FeedConfigError(ValueError):
    """The feeds file cannot be used; the message names the entry (index and name) and the field."""


class FeedConfig(BaseModel):
    """One feed as the operator configured it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_-]+$", max_length=60)
    department: str
    protocol: str
    url: str = Field(min_length=1, max_length=500)
    interval: int = Field(ge=1)
    enabled: bool = True
    timeout: float = Field(10.0, gt=0, le=600)
    page_size: int = Field(200, ge=1, le=10_000)
    api_key_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    allow_hosts: tuple[str, ...] = ()

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if not registry.is_known(value):
            raise ValueError(f"unknown protocol {value!r} (known: {', '.join(registry.names())})")
        return value

    @field_validator("allow_hosts")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if not host or "/" in host or "@" in host:
                raise ValueError(f"{host!r} is not a host name (no scheme, user, port or path)")
        return tuple(h.strip("[]").lower() for h in value)

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str) -> str:
        known = _department_codes()
        if value not in known:
            raise ValueError(f"unknown department {value!r} (known: {', '.join(sorted(known))})")
        return value

    def api_key(self) -> str | None:
        """The Open311 api_key, read from the environment variable the file names."""
        return _env(self.api_key_env)

    def outbound(self) -> Outbound:
        """Where this feed may fetch from (resolves its own host once)."""
        return Outbound.of(self.name, self.url, self.allow_hosts)

    def basic_auth(self) -> tuple[str, str] | None:
        user, password = _env(self.username_env), _env(self.password_env)
        if user is None:
            return None
        return (user, password or "")


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None


_DEPARTMENTS: frozenset[str] | None = None


def _department_codes() -> frozenset[str]:
    global _DEPARTMENTS
    if _DEPARTMENTS is None:
        _DEPARTMENTS = frozenset(row["code"] for row in load_catalogue()["department"])
    return _DEPARTMENTS


def parse_feeds(doc: dict[str, object], source: str = "feeds file") -> list[FeedConfig]:
    """Validate an already-parsed TOML document."""
    entries = doc.get("feed", [])
    unknown = set(doc) - {"feed", "endpoint"}  # [[endpoint]]: the departments' (data.loop.endpoints)
    if unknown:
        raise FeedConfigError(
            f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}; use [[feed]]"
        )
    if not isinstance(entries, list):
        raise FeedConfigError(f"{source}: 'feed' must be an array of tables ([[feed]])")
    configs: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        label = _entry_label(index, entry)
        if not isinstance(entry, dict):
            raise FeedConfigError(f"{source}: {label}: must be a table")
        try:
            config = FeedConfig.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in err['loc']) or '?'}': {_message(err)}"
                for err in exc.errors()
            )
            raise FeedConfigError(f"{source}: {label}: {problems}") from None
        if config.name in seen:
            raise FeedConfigError(f"{source}: {label}: field 'name': duplicate of feed #{seen[config.name]}")
        seen[config.name] = index
        configs.append(config)
    return configs


def _message(err: object) -> str:
    assert isinstance(err, dict)
    if err.get("type") == "extra_forbidden":
        return "unknown field"
    if err.get("type") == "missing":
        return "required"
    return str(err.get("msg", "invalid"))


def _entry_label(index: int, entry: object) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"feed #{index} ({name!r})" if isinstance(name, str) else f"feed #{index} (no name)"


def load_feeds(path: Path | str) -> list[FeedConfig]:
    """Read and validate the feeds file; :class:`FeedConfigError` names the entry and field."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        raise FeedConfigError(f"{path}: no such feeds file") from None
    except tomllib.TOMLDecodeError as exc:
        raise FeedConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_feeds(doc, str(path))


def find_feed(configs: Iterable[FeedConfig], name: str) -> FeedConfig:
    for config in configs:
        if config.name == name:
            return config
    raise FeedConfigError(f"no feed named {name!r} in the feeds file")


CATALOGUE = "catalogue"  # the audit log's actor for a change that came from the feeds file
# feed row column → the feeds file's field, for the audit log
SYNCED = {
    "department_code": "department",
    "protocol": "protocol",
    "url": "url",
    "interval_s": "interval",
    "enabled": "enabled",
}


def _wanted(config: FeedConfig) -> dict[str, object]:
    return {
        "department_code": config.department,
        "protocol": config.protocol,
        "url": redact_url(config.url),  # a key in the URL's query is not stored (nor audited)
        "interval_s": config.interval,
        "enabled": config.enabled,
    }


def _describe(changes: dict[str, tuple[object, object]]) -> str:
    return "; ".join(f"{SYNCED[k]}: {old} → {new}" for k, (old, new) in changes.items())


def _update(session: Session, row: Feed, wanted: dict[str, object], source: str, why: str = "") -> None:
    """Apply the file's values to ``row`` and audit what changed, once.

    The UPDATE only matches while the row still holds the values this session read, so when several
    workers sync the same edited file at once exactly one of them writes the change and its audit row.
    """
    changes = {k: (getattr(row, k), v) for k, v in wanted.items() if getattr(row, k) != v}
    if not changes:
        return
    values: dict[str, object] = {k: new for k, (_old, new) in changes.items()}
    if "url" in changes or "protocol" in changes:
        # Another endpoint: the old cursor means nothing there.
        values.update(cursor=None, etag=None, last_modified=None)
    guard = [
        getattr(Feed, k).is_(None) if old is None else getattr(Feed, k) == old
        for k, (old, _n) in changes.items()
    ]
    stmt = update(Feed).where(Feed.name == row.name, *guard).values(**values)
    result = session.execute(stmt.execution_options(synchronize_session=False))
    session.expire(row)
    if getattr(result, "rowcount", 0) == 1:
        detail = (why + ": " if why else "") + _describe(changes)
        audit(session, CATALOGUE, "feed_change", f"feed:{row.name}", detail, source)


def sync_feeds(session: Session, configs: Iterable[FeedConfig], source: str = "feeds file") -> list[Feed]:
    """Upsert one ``feed`` row per config, keeping each feed's cursor, ETag and Last-Modified.

    Rows of feeds no longer in the file are kept (with their history) but disabled. Every row the file
    adds or changes (department, protocol, URL, interval, enabled) is audited as ``feed_change`` by
    ``catalogue``, from ``source``. An admin's pause (``paused_at``) is the database's own: syncing
    leaves it alone.
    """
    configs = list(configs)
    rows = {row.name: row for row in session.scalars(select(Feed))}
    out: list[Feed] = []
    for config in configs:
        wanted = _wanted(config)
        row = rows.get(config.name)
        if row is None:
            row = Feed(name=config.name, **wanted)
            session.add(row)
            added = {k: (None, v) for k, v in wanted.items()}
            detail = "added: " + "; ".join(f"{SYNCED[k]}={v}" for k, (_o, v) in added.items())
            audit(session, CATALOGUE, "feed_change", f"feed:{config.name}", detail, source)
        else:
            _update(session, row, wanted, source)
        out.append(row)
    names = {c.name for c in configs}
    for name, row in rows.items():
        if name not in names and row.enabled:
            _update(session, row, {"enabled": False}, source, "no longer in the feeds file")
    session.flush()
    return out
