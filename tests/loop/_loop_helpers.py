"""Shared bits of the loop's tests: department desks served on 127.0.0.1 and the feeds file naming
their endpoints and secrets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from simulators.desk import Behaviour, Desk
from simulators.runner import Serving

SECRETS = {"city_management": "cm-secret-0123456789", "police": "police-secret-0123456789"}
ENV = {f"GRIDCC_TEST_LOOP_SECRET_{code.upper()}": secret for code, secret in SECRETS.items()}
QUIET = Behaviour(p_never=0, p_late=0, p_refuse=0, scale=0.0003, max_delay=0.5)  # 报到 within ~0.5 s


def secret_env(code: str) -> str:
    return f"GRIDCC_TEST_LOOP_SECRET_{code.upper()}"


def endpoints_toml(urls: Mapping[str, str], timeout: float = 5.0) -> str:
    lines: list[str] = []
    for code, url in urls.items():
        lines += [
            "[[endpoint]]",
            f'department = "{code}"',
            f'url = "{url}/loop/instructions"',
            'signing = "signed-json"',
            f'secret_env = "{secret_env(code)}"',
            f"timeout = {timeout}",
            "",
        ]
    return "\n".join(lines)


def write_endpoints(path: Path, urls: Mapping[str, str], timeout: float = 5.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(endpoints_toml(urls, timeout), encoding="utf-8")


@contextmanager
def desks(
    answer_url: str | None = None, behaviour: Behaviour = QUIET, codes: tuple[str, ...] = tuple(SECRETS)
) -> Iterator[tuple[dict[str, Desk], dict[str, str]]]:
    """One started desk per department, each on its own server; yields (desks, base URLs)."""
    with ExitStack() as stack:
        found: dict[str, Desk] = {}
        urls: dict[str, str] = {}
        for code in codes:
            desk = Desk(code, SECRETS[code], answer_url, behaviour, slow_seconds=8).start()
            stack.callback(desk.stop)
            found[code] = desk
            urls[code] = stack.enter_context(Serving(desk))
            stack.callback(desk.gate.set)  # never leave a server thread held
        yield found, urls


def signed_answer(
    department: str,
    in_reply_to: str,
    kind: str = "accepted",
    secret: str | None = None,
    message_id: str | None = None,
    stamp: int | None = None,
    fields: Mapping[str, str] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """An answer's body and headers, signed as ``department`` (with its secret unless another is given)."""
    import json
    import time
    import uuid

    from data.loop import signing

    doc = {
        "message_id": message_id or f"{department}-{uuid.uuid4().hex}",
        "in_reply_to": in_reply_to,
        "kind": kind,
        "handler": "王建国" if kind == "accepted" else "",
        "text": "",
        **(fields or {}),
    }
    body = json.dumps(doc, ensure_ascii=False).encode()
    ts = str(int(time.time()) if stamp is None else stamp)
    key = SECRETS.get(department, "no-secret") if secret is None else secret
    headers = {
        "Content-Type": "application/json",
        signing.DEPARTMENT: department,
        **signing.signed_headers(key, ts, body),
    }
    return body, headers
