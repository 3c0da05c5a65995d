"""The loop (网格吹哨、部门报到): instructions to departments, their delivery and the answers.

- :mod:`.actions` — 交办 / 转办 / 吹哨 / 上报 / 下派 / 督办 by an account on a case in its scope;
- :mod:`.message` — the JSON an instruction leaves as; :mod:`.signing` — how it and the answers are signed;
- :mod:`.endpoints` — each department's endpoint (``[[endpoint]]`` in the feeds file);
- :mod:`.outbox` — claiming, recording and resending outbox rows (the workers deliver them);
- :mod:`.answers` — a department's answer, checked and applied (the dashboard's inbound endpoint);
- :mod:`.clock` — the 报到 deadlines and 超时未报到.

The message format is in ``docs/loop.md``.
"""
