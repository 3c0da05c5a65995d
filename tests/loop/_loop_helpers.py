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
