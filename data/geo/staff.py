"""Synthetic grid staff: a grid worker (网格员), a grid chief (网格长) and a party branch per grid.

Names are drawn from common Chinese surnames and given-name characters; phones are 11-digit mobile
numbers with real carrier prefixes. Everything here is invented (``synthetic = True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..names import community_short_name
from .rows import place_columns

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严覃向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国文红玉兰志春梅兵云飞辉燕玲鹏波斌宇浩凯秀"
    "健俊帆琳婷倩雪慧莉晨阳林亮成宏海峰鑫德庆荣福兴小昌蓉渝川巧凤萍琴"
)
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 175 176 177 "
    "180 181 182 183 185 186 187 188 189 191 198 199"
).split()

ROLES = {"grid_worker": "网格员", "grid_chief": "网格长", "party_branch": "网格党支部"}


def person_name(rng: np.random.Generator) -> str:
    surname = SURNAMES[int(rng.integers(len(SURNAMES)))]
    length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN[int(i)] for i in rng.integers(len(GIVEN), size=length))


def mobile(rng: np.random.Generator) -> str:
    prefix = MOBILE_PREFIXES[int(rng.integers(len(MOBILE_PREFIXES)))]
    return prefix + "".join(str(int(d)) for d in rng.integers(10, size=8))


def grid_staff_rows(
    grid_code: str, grid_name: str, community_name: str, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The three ``grid_staff`` rows of one grid."""
    place = place_columns(grid_code)
    branch = f"{community_short_name(community_name)}{grid_name}党支部"
    people = (
        {"unit_code": grid_code, "role": "grid_worker", "name": person_name(rng), "phone": mobile(rng)},
        {"unit_code": grid_code, "role": "grid_chief", "name": person_name(rng), "phone": mobile(rng)},
        {"unit_code": grid_code, "role": "party_branch", "name": branch, "phone": None},
    )
    return [{**row, "synthetic": True, **place} for row in people]
