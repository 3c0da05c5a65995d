"""``case_daily``: the screens' period figures per local day, kept by the database itself.

One row per (local day or month, district, street, category, department) holding additive counts and
sums of the cases *received* then (the cohort the KPIs and rankings read) and, in day rows, of the cases
*resolved* that day (the trend's closed line). Codes are ``''`` where the case has none, so that the key
is a plain primary key both databases can upsert into. Maintained by triggers on ``case``
(:mod:`data.case_daily`), so every writer — ingest, ledger, loop, sample, a hand-typed ``UPDATE`` —
moves it in its own transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class CaseDaily(Base):
    __tablename__ = "case_daily"

    span: Mapped[str] = mapped_column(String(1), primary_key=True)  # d: a day; m: a month
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # Asia/Shanghai; a month's first day
    district_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    street_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    # of the cases received that day; judged: done with resolved_at and a deadline; handled: done with
    # accepted_at and resolved_at (handling_s their sum of seconds); responded: accepted with a response
    received: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    done: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # resolved or closed
    judged: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    on_time: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    rated: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    satisfied: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # satisfied + basic
    strict: Mapped[int] = mapped_column(Integer, default=0, nullable=False)  # satisfied only
    still_open: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    handled: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    handling_s: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    responded: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    response_s: Mapped[float] = mapped_column(Float, default=0.0, nullable=False)
    # of the cases resolved that day (whenever received)
    resolved: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
