"""``/risks``: the risk ledger (风险台账) on the map, its forms and import, and the 网格力量 tab."""
