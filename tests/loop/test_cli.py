"""``gridcc loop undelivered|resend|deliver`` on the real test database and a department desk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from data.auth import audit_rows
from data.db import transaction
from data.loop import actions
from data.models import OutboxMessage
from gridcc.cli import main

from ._loop_helpers import ENV, desks, write_endpoints
from .conftest import World


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_admin_lists_and_resends_undelivered_instructions(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = world.settings
    env = {
        "GRIDCC_DATABASE_URL": s.effective_database_url,
        "GRIDCC_DATA_DIR": str(s.data_dir),
        "GRIDCC_FEEDS_FILE": str(s.effective_feeds_file),
        "GRIDCC_LOOP_RETRY_MAX": "1",
        "GRIDCC_LANGUAGE": "en",  # the English words asserted below
        **ENV,
    }
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with transaction(world.factory) as session:
        sent = actions.dispatch(
            session, s, world.user(session, "duty1"), world.mine, "police", "请核查", datetime.now(UTC)
        )
        message_id = sent.messages[0].message_id
    with desks() as (found, urls):
        write_endpoints(s.effective_feeds_file, urls, timeout=2)
        found["police"].set_fault("error500")
        assert "undelivered 1" in run(env, "loop", "deliver")
        listed = run(env, "loop", "undelivered")
        assert message_id in listed and "HTTP 500" in listed
        found["police"].set_fault("none")
        assert "1 instruction(s) queued" in run(env, "loop", "resend", "--all")
        assert "delivered 1" in run(env, "loop", "deliver")
        assert found["police"].counts.as_dict()["keys"] == {message_id: 1}
    assert run(env, "loop", "undelivered").strip() == "no undelivered instruction"
    with world.factory() as session:
        assert session.scalars(select(OutboxMessage.state)).one() == "delivered"
        [row] = audit_rows(session, action="loop_resend")
        assert row.actor.startswith("console") and row.target == f"message:{message_id}"


def test_the_delivery_job_is_scheduled_beside_the_polls_and_deadlines(tmp_path: Path) -> None:
    from rq import cron

    from workers import cron_config
    from workers.jobs.deliver import deliver_outbox

    cron._job_data_registry.clear()
    cron_config.register_all(cron_config.Settings(data_dir=tmp_path))
    jobs = {entry["func"]: entry for entry in cron._job_data_registry}
    cron._job_data_registry.clear()
    assert jobs[deliver_outbox]["interval"] == cron_config.DELIVER_INTERVAL == 5
    assert jobs[deliver_outbox]["queue_name"] == "gridcc-default"
