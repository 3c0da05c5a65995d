"""Titles name a scope in one line, however many units it holds."""

from __future__ import annotations

from dashboard.components.scope_name import scope_name


def test_scope_name() -> None:
    assert scope_name(["铜梁区"], "zh-CN") == "铜梁区"
    assert scope_name(["铜梁区", "大足区", "璧山区", "荣昌区"], "zh-CN") == "铜梁区、大足区、璧山区、荣昌区"
    city = [f"区{i}" for i in range(38)]
    assert scope_name(city, "zh-CN") == "区0、区1、区2等38个区域"
    assert scope_name(city, "en") == "区0, 区1, 区2 and 35 more"
    assert scope_name([], "zh-CN") == ""
