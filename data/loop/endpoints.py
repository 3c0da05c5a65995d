"""Each department's endpoint for instructions: ``[[endpoint]]`` tables in the feeds file, beside the
``[[feed]]`` tables.

```toml
[[endpoint]]
department = "police"                     # a department code of the catalogue
url = "https://police.example.gov/gridcc/instructions"
signing = "signed-json"                   # the outbound connector (workers.outbox.registry)
secret_env = "GRIDCC_LOOP_SECRET_POLICE"  # NAME of the env var holding the department's shared secret
timeout = 10                              # optional, seconds
```

``signing = "open311"`` adds ``open311_url`` (the department's GeoReport v2 ``…/requests.json``),
``api_key_env`` (NAME of the env var holding its api key), ``service_codes`` (a table: gridcc category →
its service code) and ``default_service_code`` (``workers.outbox.open311``).

The same secret signs what gridcc sends to the department and checks what the department answers
(``docs/loop.md``). A department with no ``[[endpoint]]`` receives nothing and cannot answer.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class EndpointConfigError(ValueError):
    """The feeds file's ``[[endpoint]]`` tables cannot be used; the message names the entry and field."""


class EndpointConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str = Field(min_length=1, max_length=40)
    url: str = Field(min_length=1, max_length=500)
    signing: str = Field("signed-json", min_length=1, max_length=40)
    secret_env: str = Field(min_length=1, max_length=100)
    timeout: float = Field(10.0, gt=0, le=120)
    # signing = "open311": where a 交办 of a case the department does not hold is filed (GeoReport v2
    # POST requests), the env var holding its api_key, and gridcc category → its service_code
    open311_url: str = Field("", max_length=500)
    api_key_env: str = Field("", max_length=100)
    service_codes: dict[str, str] = Field(default_factory=dict)
    default_service_code: str = Field("", max_length=100)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("open311_url")
    @classmethod
    def _http_url_or_none(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def api_key(self) -> str:
        """The Open311 api key, read from the environment variable ``api_key_env`` names ("" when none)."""
        return os.environ.get(self.api_key_env, "") if self.api_key_env else ""

    def secret(self) -> str:
        """The shared secret, read from the environment variable the file names ("" when unset)."""
        return os.environ.get(self.secret_env, "")


def parse_endpoints(doc: dict[str, object], source: str = "feeds file") -> dict[str, EndpointConfig]:
    """The ``[[endpoint]]`` tables of an already-parsed feeds file, by department code."""
    entries = doc.get("endpoint", [])
    if not isinstance(entries, list):
        raise EndpointConfigError(f"{source}: 'endpoint' must be an array of tables ([[endpoint]])")
    out: dict[str, EndpointConfig] = {}
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise EndpointConfigError(f"{source}: endpoint #{index}: must be a table")
        try:
            config = EndpointConfig.model_validate(entry)
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in err['loc']) or '?'}': {err['msg']}" for err in exc.errors()
            )
            raise EndpointConfigError(f"{source}: endpoint #{index}: {problems}") from None
        if config.department in out:
            raise EndpointConfigError(
                f"{source}: endpoint #{index}: department {config.department!r} has an endpoint already"
            )
        out[config.department] = config
    return out


def load_endpoints(path: Path | str) -> dict[str, EndpointConfig]:
    """The departments' endpoints in the feeds file at ``path`` (none when there is no such file)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise EndpointConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_endpoints(doc, str(path))


class EndpointCache:
    """The endpoints of one feeds file, re-read when the file changes on disk (per process)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[float, dict[str, EndpointConfig]] | None = None

    def get(self) -> dict[str, EndpointConfig]:
        mtime = self.path.stat().st_mtime if self.path.exists() else -1.0
        if self._seen is None or self._seen[0] != mtime:
            self._seen = (mtime, load_endpoints(self.path))
        return self._seen[1]
