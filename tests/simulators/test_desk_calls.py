"""The grid patrol desk answers 预警叫应 calls like real workers (``simulators.desk.CallBehaviour``):
most 已收到 within minutes and then what was done, some late, a few never; a 再叫应 reaches a silent
worker, who answers half of the time; a ``call_ended`` message is never answered."""

from __future__ import annotations

import random
from collections import Counter

from simulators.desk import CallBehaviour, Desk

CALL = {"type": "call", "grid": {"code": "500151001001001"}, "recall": False}


def test_most_answer_within_minutes_some_late_a_few_never() -> None:
    desk = Desk("grid_patrol", "s", rng=random.Random(7))
    plans = [desk.call_plan(CALL) for _ in range(4000)]
    never = sum(1 for p in plans if not p) / len(plans)
    firsts = [p[0][0] for p in plans if p]
    late = sum(1 for d in firsts if d > 600) / len(plans)
    assert 0.06 < never < 0.10 and 0.12 < late < 0.18, (never, late)
    assert sum(1 for d in firsts if d <= 600) / len(plans) > 0.7  # most within ten minutes
    assert all(p[0][1] == "received" and p[1][0] > p[0][0] for p in plans if p)
    done = Counter(p[1][1] for p in plans if p)
    assert set(done) == {"patrolled", "evacuated", "support"} and done["patrolled"] > done["evacuated"]
    assert all(p[1][3] and p[1][3] >= 3 for p in plans if p and p[1][1] == "evacuated")
    assert all(p[1][2] for p in plans if p and p[1][1] == "support")  # 需要支援 says what


def test_the_scale_shrinks_every_delay_and_a_recall_is_answered_half_of_the_time() -> None:
    desk = Desk("grid_patrol", "s", rng=random.Random(3), calls=CallBehaviour(scale=0.05))
    firsts = [p[0][0] for p in (desk.call_plan(CALL) for _ in range(2000)) if p]
    assert max(firsts) <= 3600 * 0.05  # the demo's scale: within three minutes
    recalls = [desk.call_plan({**CALL, "recall": True}) for _ in range(2000)]
    assert 0.4 < sum(1 for p in recalls if p) / len(recalls) < 0.6
    assert desk.call_plan({**CALL, "type": "call_ended"}) == []
