"""``gridcc … --help`` is written in ``Settings.language`` from the text catalogue (issue #10, item 4)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from data import text
from gridcc.cli import main


def _paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _paths(sub, (*path, name))
    return found


@pytest.mark.parametrize("lang", text.LANGUAGES)
def test_every_help_in_the_configured_language(lang: str) -> None:
    runner = CliRunner(env={"GRIDCC_LANGUAGE": lang})
    other = text.other(lang)
    for path in _paths(main):
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        key = "_".join(("cli_help", *(p.replace("-", "_") for p in path)))
        first = text.t(key, lang).split("\n", 1)[0]
        assert first.split(" ", 1)[0] in result.output, (path, result.output)
    out = runner.invoke(main, ["users", "add", "--help"]).output
    assert text.t("cli_help_users_add__codes", lang) in out
    assert text.t("cli_help_users_add__codes", other) not in out


def test_a_bad_setting_still_shows_the_help_and_stops_a_command() -> None:
    runner = CliRunner(env={"GRIDCC_LANGUAGE": "xx"})
    shown = runner.invoke(main, ["--help"])
    assert shown.exit_code == 0, shown.output
    assert text.t("cli_help", text.DEFAULT).split("\n", 1)[0] in shown.output
    refused = runner.invoke(main, ["feeds", "list"])
    assert refused.exit_code != 0
    assert "language must be zh-CN or en" in str(refused.exception)
