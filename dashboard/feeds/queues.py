"""The RQ queues and workers, read with RQ's own API from the app's Redis, and their two tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
from dash import html
from rq import Queue, Worker
from rq.worker import BaseWorker

from ..i18n import t
from ..redis_or import REDIS_DOWN


@dataclass(frozen=True)
class QueueRow:
    name: str
    queued: int
    started: int
    failed: int


@dataclass(frozen=True)
class WorkerRow:
    name: str
    state: str
    current_job: str
    queues: str
    successful: int
    failed: int


@dataclass(frozen=True)
class RqState:
    queues: list[QueueRow] = field(default_factory=list)
    workers: list[WorkerRow] = field(default_factory=list)
    error: str = ""


def _state(worker: BaseWorker) -> str:
    state = worker.get_state()
    return str(getattr(state, "value", state))


def _current_job(worker: BaseWorker) -> str:
    job_id = worker.get_current_job_id()
    if not job_id:
        return ""
    job = worker.get_current_job()
    return (job.description if job is not None and job.description else job_id)[:120]


def read_rq(conn: redis.Redis) -> RqState:
    """Every queue RQ knows (``Queue.all``) and every live worker (``Worker.all``); the error when
    Redis does not answer."""
    try:
        queues = [
            QueueRow(q.name, q.count, q.started_job_registry.count, q.failed_job_registry.count)
            for q in sorted(Queue.all(connection=conn), key=lambda q: q.name)
        ]
        workers = [
            WorkerRow(
                w.name,
                _state(w),
                _current_job(w),
                ", ".join(w.queue_names()),
                w.successful_job_count,
                w.failed_job_count,
            )
            for w in sorted(Worker.all(connection=conn), key=lambda w: w.name)
        ]
    except REDIS_DOWN as exc:
        return RqState(error=str(exc))
    return RqState(queues, workers)


def _table(headers: list[str], rows: list[list[Any]], classes: list[str], row_class: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody(
                [
                    html.Tr(
                        [html.Td(v, className=c) for v, c in zip(r, classes, strict=True)],
                        className=row_class,
                    )
                    for r in rows
                ]
            ),
        ],
        className="feeds-table",
    )


def worker_state_label(state: str, lang: str) -> str:
    key = f"worker_{state}"
    return t(key, lang) if state in ("busy", "idle", "suspended", "started") else state


def rq_tables(state: RqState, lang: str) -> html.Div:
    if state.error:
        body = html.Div(t("redis_down", lang, error=state.error), className="feeds-error")
        return html.Div(body, className="feeds-rq")
    queues: Any = (
        _table(
            [t(k, lang) for k in ("col_queue", "col_queued", "col_started", "col_failed")],
            [[q.name, q.queued, q.started, q.failed] for q in state.queues],
            ["name", "num", "num", "num failed"],
            "queue-row",
        )
        if state.queues
        else html.Div(t("no_queues", lang), className="case-empty")
    )
    workers: Any = (
        _table(
            [
                t(k, lang)
                for k in (
                    "col_worker",
                    "col_state",
                    "col_queue",
                    "col_current_job",
                    "col_successful",
                    "col_failed",
                )
            ],
            [
                [
                    w.name,
                    html.Span(worker_state_label(w.state, lang), className=f"worker-state ws-{w.state}"),
                    w.queues,
                    w.current_job,
                    w.successful,
                    w.failed,
                ]
                for w in state.workers
            ],
            ["name", "state", "queues", "job", "num", "num failed"],
            "worker-row",
        )
        if state.workers
        else html.Div(t("no_workers", lang), className="case-empty feeds-error")
    )
    return html.Div(
        [
            html.Div([html.H2(t("feeds_queues", lang)), queues], className="case-card feeds-queues"),
            html.Div([html.H2(t("feeds_workers", lang)), workers], className="case-card feeds-workers"),
        ],
        className="feeds-rq",
    )
