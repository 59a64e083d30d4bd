"""The overview page: the cases a staff member sees by rule and region, open, overdue, due this week, recovered;
and, from the published file, the latest run, the trend of the last runs and the missing deliveries.

Nothing here renders HTML (the template does, escaping everything) and no citizen ID is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from pipelines.cases import casework
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.present.labels import rule_label, rule_sort_key
from pipelines.present.money import fmt_money
from schemas.divisions import region_label


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    amount: str
    width: int  # of BAR_WIDTH, by amount


BAR_WIDTH = 400


def _bars(frame: pl.DataFrame, by: str, label, order) -> list[Bar]:
    if frame.is_empty():
        return []
    grouped = (
        frame.group_by(by).agg(pl.len().alias("count"), casework.amount_column().sum().alias("amount")).rows(named=True)
    )
    top = max((Decimal(g["amount"] or 0) for g in grouped), default=Decimal(0))
    bars = []
    for g in sorted(grouped, key=lambda g: order(g[by] or "")):
        amount = Decimal(g["amount"] or 0)
        width = int(amount * BAR_WIDTH / top) if top > 0 else 0
        bars.append(Bar(label(g[by]), int(g["count"]), fmt_money(amount), max(width, 1 if amount else 0)))
    return bars


def overview(con: sqlite3.Connection, member: staff_register.Staff, today: dt.date) -> dict[str, object]:
    """Counts and amounts of the cases a staff member sees: by rule and region (SVG bars), open, overdue, due this
    week, recovered and written off."""
    frame = casework.visible_to(reg.cases_frame(con, today), member)
    open_ = frame.filter(~pl.col("status").is_in(reg.CLOSED))
    week = (today + dt.timedelta(days=7)).isoformat()
    money = con.execute(
        "SELECT kind, amount FROM case_money WHERE suspect_id IN (SELECT value FROM json_each(?))",
        [json.dumps(frame["suspect_id"].to_list())],
    ).fetchall()
    sums = {"recovered": Decimal(0), "written_off": Decimal(0), "excess": Decimal(0)}
    for kind, amount in money:
        sums[kind] += Decimal(amount)
    return {
        "total": frame.height,
        "open": open_.height,
        "overdue": frame.filter(pl.col("overdue")).height,
        "due_this_week": open_.filter(
            pl.col("due_date").is_not_null() & (pl.col("due_date") >= today.isoformat()) & (pl.col("due_date") <= week)
        ).height,
        "recovered": fmt_money(sums["recovered"]),
        "written_off": fmt_money(sums["written_off"]),
        "by_rule": _bars(frame, "rule", rule_label, rule_sort_key),
        "by_region": _bars(
            frame.with_columns(pl.coalesce("assigned_region", "region_code").alias("r")), "r", region_label, lambda r: r
        ),
        "bar_width": BAR_WIDTH,
    }
