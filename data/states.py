"""The case state machine (DESIGN §3).

reported 待受理 → accepted 已受理 → assigned 已交办 → in_progress 处置中 → resolved 已办结 → closed 已归档,
with returned 退回 (verification failed) going back to in_progress.
"""

from __future__ import annotations

from collections import deque

STATES = ("reported", "accepted", "assigned", "in_progress", "resolved", "closed", "returned")
OPEN_STATES = frozenset({"reported", "accepted", "assigned", "in_progress", "returned"})
DONE_STATES = frozenset({"resolved", "closed"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "reported": frozenset({"accepted"}),
    "accepted": frozenset({"assigned"}),
    "assigned": frozenset({"in_progress"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "returned"}),
    "returned": frozenset({"in_progress"}),
    "closed": frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, from_state: str, to_state: str) -> None:
        super().__init__(f"illegal transition {from_state} → {to_state}")
        self.from_state = from_state
        self.to_state = to_state


def is_legal(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def check(from_state: str, to_state: str) -> None:
    if from_state not in TRANSITIONS or to_state not in TRANSITIONS:
        raise IllegalTransition(from_state, to_state)
    if not is_legal(from_state, to_state):
        raise IllegalTransition(from_state, to_state)


def path(from_state: str, to_state: str) -> list[str]:
    """The shortest chain of legal steps from one state to another (excluding ``from_state``).

    A feed polled every minute can skip intermediate states (accepted, then in_progress a minute
    later); the intermediate steps are implied and each is recorded. A target that cannot be reached
    through the graph (closed → reported, say) raises :class:`IllegalTransition`.
    """
    if from_state not in TRANSITIONS or to_state not in TRANSITIONS:
        raise IllegalTransition(from_state, to_state)
    if from_state == to_state:
        return []
    queue: deque[tuple[str, list[str]]] = deque([(from_state, [])])
    seen = {from_state}
    while queue:
        state, steps = queue.popleft()
        for nxt in sorted(TRANSITIONS[state]):
            if nxt in seen:
                continue
            if nxt == to_state:
                return [*steps, nxt]
            seen.add(nxt)
            queue.append((nxt, [*steps, nxt]))
    raise IllegalTransition(from_state, to_state)
