"""A department's instruction desk (the loop's far side): it accepts gridcc's signed instructions and
answers them like a real bureau.

``POST /loop/instructions`` checks the signature (``data.loop.signing``, the department's secret) and
deduplicates on the ``Idempotency-Key``: a message seen before is acknowledged (200, ``duplicate``) and
not acted on again. ``GET /loop/_counts`` gives the counts tests read (received, unique, duplicates,
answers sent, bad signatures, every key with how often it came, and the feed records ``moved``).
``POST /loop/_faults`` (``{"mode": "refuse" | "slow" | "error500" | "none", "seconds": 120}``) makes
the desk misbehave for a while: ``refuse`` drops the connection without an answer, ``slow`` answers
after longer than a delivery's timeout, ``error500`` answers 500.

Answers go to gridcc's inbound endpoint (``answer_url``), signed with the same secret: most 报到
(accepted, with a handler's name) within the 报到 deadline, some late, a few never, some 退回 (refused)
with a reason (:class:`Behaviour`; ``scale`` shrinks every delay for tests and the demo).

预警叫应: the grid patrol app's desk also takes **calls** (``"type": "call"``, one per grid under a
warning): it answers as the grid's worker would, signed with that grid's own key
(:func:`data.loop.calls.grid_key`, header ``X-Gridcc-Grid``) — most 已收到 within minutes and then
巡查完成, 已转移 N 人 or 需要支援, some late, a few never (:class:`CallBehaviour`; ``scale`` shrinks it
too). A 再叫应 (``"recall": true``) reaches a silent worker, who then answers half of the time. A
``call_ended`` message is acknowledged and not answered.

Then the case moves on its feed: when the desk has sent a 报到 or a 办结 about a case that came from a
simulated Open311 feed (``case.feed`` and ``case.external_id`` of the instruction), the record of that
feed shows it in the department's hands (``in_progress``), then ``closed`` on 办结
(:meth:`simulators.cases.CaseBook.take_over`), and gridcc's next poll moves the case.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from data.loop import signing
from data.loop.calls import grid_key

from .apps import Request, Response, json_response

if TYPE_CHECKING:
    from .cases import CaseBook

log = logging.getLogger(__name__)

DESK_FAULTS = ("none", "refuse", "slow", "error500")
DROP = 0  # a Response status meaning: close the connection without answering
HANDLERS = ("王建国", "李明", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄敏")
REFUSALS = (
    "不属于本部门职责范围，请转相关部门",
    "地址不在本部门辖区，请核实后重新交办",
    "该事项已由属地街道受理，建议转办",
)


@dataclass(frozen=True)
class Behaviour:
    """How a desk answers. Shares are of all instructions; the rest 报到 on time.

    An on-time 报到 comes after ``on_time`` (fractions) of the time to its deadline, a late one after
    ``late`` of it; every delay is multiplied by ``scale`` and capped at ``max_delay`` seconds —
    except a late one, which is always after the deadline.
    """

    p_never: float = 0.05
    p_late: float = 0.10
    p_refuse: float = 0.08
    on_time: tuple[float, float] = (0.05, 0.6)
    late: tuple[float, float] = (1.05, 1.5)
    scale: float = 1.0
    max_delay: float = 3600.0
    then_done: bool = False  # after 报到, report 办理情况 and then 办结


SUPPORT_NOTES = ("低洼处积水过膝，需要抽水设备", "两户老人行动不便，需要人手协助转移", "道路塌方，需要派车")


@dataclass(frozen=True)
class CallBehaviour:
    """How grid workers answer calls (预警叫应). Delays are in seconds before ``scale``: 已收到 within
    ``on_time`` (most), ``late`` (some), never (a few); then, ``then`` later, what was done."""

    p_never: float = 0.08
    p_late: float = 0.15
    p_recall_answers: float = 0.5  # a silent worker called again (再叫应) answers
    on_time: tuple[float, float] = (30.0, 600.0)  # half a minute to ten minutes
    late: tuple[float, float] = (1200.0, 3600.0)  # twenty minutes to an hour
    then: tuple[float, float] = (120.0, 900.0)
    p_evacuated: float = 0.2
    p_support: float = 0.1
    scale: float = 1.0


@dataclass
class Counts:
    received: int = 0
    duplicates: int = 0
    bad_signatures: int = 0
    answers_sent: int = 0
    answers_failed: int = 0
    keys: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "unique": len(self.keys),
            "duplicates": self.duplicates,
            "bad_signatures": self.bad_signatures,
            "answers_sent": self.answers_sent,
            "answers_failed": self.answers_failed,
            "keys": dict(self.keys),
        }


class Desk:
    """One department's desk: ``handle(request)`` for its routes, and a thread that sends its answers."""

    def __init__(
        self,
        department: str,
        secret: str,
        answer_url: str | None = None,
        behaviour: Behaviour | None = None,
        rng: random.Random | None = None,
        slow_seconds: float = 30.0,
        max_age: int = 300,
        book: CaseBook | None = None,
        clock: Callable[[], datetime] | None = None,
        calls: CallBehaviour | None = None,
    ) -> None:
        self.department = department
        self.calls = calls or CallBehaviour(scale=self.behaviour_scale(behaviour))
        self.name = f"desk-{department}"
        self.secret = secret
        self.answer_url = answer_url
        self.behaviour = behaviour or Behaviour()
        self.rng = rng or random.Random()
        self.slow_seconds = slow_seconds
        self.max_age = max_age
        self.book = book  # the simulated feeds' cases: a 报到 / 办结 moves the case on its feed
        self.clock = clock or (lambda: datetime.now(UTC))
        self.moved: Counter[str] = Counter()  # feed records moved, by their new status
        self.call_answers: Counter[str] = Counter()  # 预警叫应 answers sent, by kind
        self.counts = Counts()
        self.messages: dict[str, dict[str, Any]] = {}  # key → the instruction as first received
        self._lock = threading.Lock()
        self._fault = ("none", 0.0)  # mode, until (monotonic)
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self._wake = threading.Condition()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: httpx.Client | None = None
        # a test's hand on the desk: while ``gate`` is clear, an instruction is held after it was
        # received and counted, before the desk answers (``waiting`` is set then)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    @staticmethod
    def behaviour_scale(behaviour: Behaviour | None) -> float:
        return behaviour.scale if behaviour is not None else 1.0

    # -- faults ---------------------------------------------------------------------------------------

    def set_fault(self, mode: str, seconds: float | None = None) -> None:
        """Misbehave as ``mode`` for ``seconds`` (``None``: until told otherwise)."""
        if mode not in DESK_FAULTS:
            raise ValueError(f"unknown desk fault {mode!r} (one of {', '.join(DESK_FAULTS)})")
        until = float("inf") if seconds is None else time.monotonic() + seconds
        with self._lock:
            self._fault = (mode, until)

    def fault(self) -> str:
        with self._lock:
            mode, until = self._fault
        return mode if time.monotonic() < until else "none"

    # -- HTTP -----------------------------------------------------------------------------------------

    def handle(self, req: Request, fault: str = "none") -> Response:
        if req.path == "/loop/_counts" and req.method == "GET":
            with self._lock:
                counts = {
                    "department": self.department, **self.counts.as_dict(), "moved": dict(self.moved),
                    "call_answers": dict(self.call_answers),
                }  # fmt: skip
                return json_response(200, counts)
        if req.path == "/loop/_faults" and req.method == "POST":
            try:
                doc = json.loads(req.body or b"{}")
                self.set_fault(str(doc.get("mode", "none")), doc.get("seconds"))
            except (ValueError, AttributeError, TypeError) as exc:
                return json_response(400, {"error": str(exc)})
            return json_response(200, {"department": self.department, "mode": self.fault()})
        if req.path != "/loop/instructions":
            return Response(404, b"not found")
        if req.method != "POST":
            return Response(405, b"method not allowed")
        mode = self.fault()
        if mode == "none":
            mode = fault
        if mode == "refuse":
            return Response(DROP)
        if mode == "slow":
            self.stopping.wait(self.slow_seconds)
            return Response(503, b"too slow")
        if mode == "error500":
            return Response(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
        return self._instruction(req)

    def _instruction(self, req: Request) -> Response:
        stamp = req.headers.get(signing.TIMESTAMP) or ""
        if not signing.valid(self.secret, stamp, req.body, req.headers.get(signing.SIGNATURE)):
            with self._lock:
                self.counts.bad_signatures += 1
            return json_response(401, {"error": "bad_signature"})
        try:
            fresh = abs(time.time() - int(stamp)) <= self.max_age
            doc = json.loads(req.body)
        except ValueError:
            return json_response(400, {"error": "bad_request"})
        if not fresh:
            return json_response(401, {"error": "stale_timestamp"})
        key = req.headers.get(signing.IDEMPOTENCY_KEY) or ""
        if not key or not isinstance(doc, dict) or doc.get("message_id") != key:
            return json_response(400, {"error": "bad_request", "message": "Idempotency-Key ≠ message_id"})
        with self._lock:
            self.counts.received += 1
            seen = key in self.counts.keys
            self.counts.keys[key] += 1
            if seen:
                self.counts.duplicates += 1
                return json_response(200, {"ok": True, "duplicate": True})
            self.messages[key] = doc
        if not self.gate.is_set():
            self.waiting.set()
            self.gate.wait(60)
        self._plan(key, doc)
        return json_response(200, {"ok": True})

    # -- answers --------------------------------------------------------------------------------------

    def plan(self, doc: dict[str, Any], now: datetime | None = None) -> list[tuple[float, str, str, str]]:
        """How the desk will answer this instruction: ``(delay seconds, kind, text, handler)`` for each
        answer, none for an instruction it never answers (drawn from :class:`Behaviour`)."""
        b = self.behaviour
        try:
            window = (datetime.fromisoformat(doc["report_by"]) - (now or datetime.now(UTC))).total_seconds()
        except (KeyError, TypeError, ValueError):
            window = 1800.0
        window = max(1.0, window)
        draw = self.rng.random()
        if draw < b.p_never:
            return []
        if draw < b.p_never + b.p_refuse:
            delay = min(b.max_delay, window * self.rng.uniform(*b.on_time) * b.scale)
            return [(delay, "refused", self.rng.choice(REFUSALS), "")]
        if draw < b.p_never + b.p_refuse + b.p_late:
            delay = window * self.rng.uniform(*b.late)  # late whatever the scale
        else:
            delay = min(b.max_delay, window * self.rng.uniform(*b.on_time) * b.scale)
        answers = [(delay, "accepted", "", self.rng.choice(HANDLERS))]
        if b.then_done:
            answers += [
                (delay * 1.5 + 0.05, "progress", "已到现场处置", ""),
                (delay * 2 + 0.1, "done", "已处置完毕", ""),
            ]
        return answers

    def call_plan(self, doc: dict[str, Any]) -> list[tuple[float, str, str, int | None]]:
        """How the grid's worker answers a call: ``(delay seconds, kind, text, count)`` for each answer,
        none for a worker who never answers (drawn from :class:`CallBehaviour`)."""
        b = self.calls
        if doc.get("type") != "call":
            return []
        if doc.get("recall"):
            if self.rng.random() >= b.p_recall_answers:
                return []
            delay = self.rng.uniform(*b.on_time) * b.scale
        else:
            draw = self.rng.random()
            if draw < b.p_never:
                return []
            span = b.late if draw < b.p_never + b.p_late else b.on_time
            delay = self.rng.uniform(*span) * b.scale
        then = delay + self.rng.uniform(*b.then) * b.scale
        draw = self.rng.random()
        if draw < b.p_support:
            done: tuple[float, str, str, int | None] = (then, "support", self.rng.choice(SUPPORT_NOTES), None)
        elif draw < b.p_support + b.p_evacuated:
            done = (then, "evacuated", "", self.rng.randint(3, 60))
        else:
            done = (then, "patrolled", "", None)
        return [(delay, "received", "", None), done]

    def _plan(self, key: str, doc: dict[str, Any]) -> None:
        if not self.answer_url:
            return
        if doc.get("type") in ("call", "call_ended"):
            grid = str((doc.get("grid") or {}).get("code") or "")
            for delay, kind, text, count in self.call_plan(doc):
                self._schedule(delay, key, kind, text=text, grid=grid, count=count)
            return
        for delay, kind, text, handler in self.plan(doc):
            self._schedule(delay, key, kind, text=text, handler=handler)

    def call_answer(
        self, key: str, kind: str, text: str = "", count: int | None = None, delay: float = 0.0,
        grid: str | None = None,
    ) -> None:  # fmt: skip
        """Answer the call ``key`` as its grid's worker (``grid``: as another grid's, a forgery)."""
        with self._lock:
            doc = self.messages.get(key)
        if doc is None:
            raise KeyError(f"{self.name}: no call {key!r} received")
        code = grid if grid is not None else str((doc.get("grid") or {}).get("code") or "")
        self._schedule(delay, key, kind, text=text, grid=code, count=count)

    def answer(self, key: str, kind: str, text: str = "", handler: str = "", delay: float = 0.0) -> None:
        """Answer the instruction ``key`` (one this desk received) with ``kind`` after ``delay`` seconds,
        as a clerk would by hand (tests, and the demo's operator)."""
        with self._lock:
            if key not in self.messages:
                raise KeyError(f"{self.name}: no instruction {key!r} received")
        self._schedule(delay, key, kind, text=text, handler=handler)

    def _schedule(
        self, delay: float, key: str, kind: str, text: str = "", handler: str = "", grid: str = "",
        count: int | None = None,
    ) -> None:  # fmt: skip
        answer: dict[str, Any] = {
            "message_id": f"{self.department}-{uuid.uuid4().hex}",
            "in_reply_to": key,
            "kind": kind,
            "handler": handler,
            "text": text,
        }
        if count is not None:
            answer["count"] = count
        if grid:
            answer["_grid"] = grid  # not sent: the grid whose key signs it
        with self._wake:
            self._seq += 1
            heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, answer))
            self._wake.notify()

    def start(self) -> Desk:
        if self._thread is None:
            self._client = httpx.Client(timeout=10, trust_env=False)
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def _run(self) -> None:
        while not self.stopping.is_set():
            with self._wake:
                if not self._queue:
                    self._wake.wait(0.5)
                    continue
                due, _seq, answer = self._queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake.wait(min(wait, 0.5))
                    continue
                heapq.heappop(self._queue)
            self._send(answer)

    def _send(self, answer: dict[str, Any], tries: int = 5) -> None:
        grid = str(answer.get("_grid") or "")
        body = json.dumps({k: v for k, v in answer.items() if k != "_grid"}, ensure_ascii=False).encode()
        secret = grid_key(self.secret, grid) if grid else self.secret  # a worker holds its grid's key only
        assert self._client is not None and self.answer_url
        for attempt in range(tries):
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                signing.DEPARTMENT: self.department,
                **signing.signed_headers(secret, stamp, body),
            }
            if grid:
                headers["X-Gridcc-Grid"] = grid
            try:
                response = self._client.post(self.answer_url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                log.warning("%s: answer not sent (%s); try %d", self.name, exc, attempt + 1)
            else:
                replayed = response.status_code == 409 and b"replayed" in response.content
                if response.status_code < 300 or replayed:
                    with self._lock:
                        self.counts.answers_sent += 1
                        if grid:
                            self.call_answers[answer["kind"]] += 1
                    self._move_case(answer)
                    return
                log.warning("%s: answer refused: %s %s", self.name, response.status_code, response.text[:200])
                if response.status_code < 500:
                    break
            if self.stopping.wait(min(5.0, 0.2 * 2**attempt)):
                break
        with self._lock:
            self.counts.answers_failed += 1

    def _move_case(self, answer: dict[str, Any]) -> None:
        """After a 报到 or 办结 was sent: the case's record on its simulated feed follows."""
        if self.book is None or answer["kind"] not in ("accepted", "done"):
            return
        with self._lock:
            case = (self.messages.get(answer["in_reply_to"]) or {}).get("case") or {}
        feed, rid = case.get("feed"), case.get("external_id")
        if not isinstance(feed, str) or not isinstance(rid, str):
            return
        try:
            status = self.book.take_over(feed, rid, answer["kind"], self.clock())
        except Exception:  # the desk keeps answering whatever the store does
            log.exception("%s: case %s of %s not moved", self.name, rid, feed)
            return
        if status is not None:
            with self._lock:
                self.moved[status] += 1
