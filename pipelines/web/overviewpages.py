"""The overview page: the cases a staff member sees — counts, amounts at risk, recovered and written off, by rule
and by region, open, overdue and due this week — and, from the published file, the latest run's status, the trend
of the last runs and the deliveries missing.

The figures are the reports' (docs/adr/0019-report-time-base.md): the register read once
(`reports.sources.read_register`), each case as it stands today (`cases_at`), the money of a near-miss ledger/bank
pair counted once (`carry_pairs`, the pairs read from the published file). So the overview and the 定期通报 of the
same day agree to the fen. Charts are `reportpages.ChartView`s drawn by the same SVG macro as the print view.
Nothing here renders HTML (the templates do, escaping everything) and no citizen ID is shown.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from pipelines.cases import casework
from pipelines.cases import indicators as monitoring
from pipelines.cases import inspections as special_inspections
from pipelines.cases import staff as staff_register
from pipelines.cases.register import CLOSED
from pipelines.cases.reports.common import NO_REGION
from pipelines.cases.reports.document import Chart, Col, Table
from pipelines.cases.reports.sources import cases_at, duck_rows, read_register
from pipelines.present.labels import rule_name, rule_sort_key
from pipelines.present.masking import mask_text
from pipelines.present.money import ZERO, fmt_money
from pipelines.warehouse.runs import shown_time
from pipelines.warehouse.session import WarehouseBusy, reader
from pipelines.web.qualitypages import run_status_label
from pipelines.web.reportpages import ChartView, chart_view, table_view
from schemas.divisions import region_label

TREND_RUNS = 12  # the last runs the trend shows


@dataclass(frozen=True)
class Published:
    """What the overview takes from the published file: runs (oldest first), near-miss pairs, missing
    deliveries; `unavailable` says why they are empty when the file could not be read."""

    runs: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    unavailable: str | None = None
    read: bool = True  # False when the file could not be read (missing, busy, an error): asked again next time
    warnings: list[dict[str, Any]] = field(default_factory=list)  # 监测预警 of the latest run (early_warnings)


_CACHE: dict[tuple, Published] = {}  # the published part of the overview, for the one file now published
_CACHE_LOCK = threading.Lock()


def read_published(db: Path, memory_limit: str) -> Published:
    """The published part, read once per published file: a run publishes by swapping a new file in (a new inode),
    so the file's identity (device, inode, size, modification time) keys what was read from it. Reading the
    missing deliveries scans every table (~0.8 s on a 1M-person file); the overview asks on every request."""
    try:
        st = db.stat()
    except FileNotFoundError:
        return _read_published(db, memory_limit)
    key = (str(db.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    read = _read_published(db, memory_limit)
    if read.read:  # a busy or unreadable file is asked again next time
        with _CACHE_LOCK:
            _CACHE.clear()
            _CACHE[key] = read
    return read


def _read_published(db: Path, memory_limit: str) -> Published:
    if not db.is_file():
        return Published([], [], [], "运行数据不可用：没有数据库 run data unavailable: no published database", False)
    try:
        with reader(db, memory_limit=memory_limit) as duck:
            duck.execute("BEGIN TRANSACTION")
            try:
                runs = duck_rows(duck, "runs.sql", {})
                pairs = duck_rows(duck, "ledger_bank_pairs.sql", {})
                # before _missing: a file without its view aborts the transaction there
                warnings = monitoring.run_warnings(duck)  # the latest run's; none in a file from before them
                missing, note = _missing(duck)
            finally:
                duck.execute("COMMIT")
    except WarehouseBusy:
        return Published(
            [], [], [], "运行数据暂不可用：数据库正被占用 run data unavailable: the database is busy", False
        )
    except duckdb.Error as err:
        said = mask_text(" ".join(str(err).split()))[:200]
        return Published([], [], [], f"运行数据不可用 run data unavailable: {said}", False)
    return Published(runs, pairs, missing, note, warnings=warnings)


def _missing(duck: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], str | None]:
    """The deliveries missing the latest month (v_missing_deliveries); a file published before the view existed
    has none to show, and says so."""
    try:
        cursor = duck.execute(
            "SELECT source_zh, dataset, dataset_zh, latest_period, latest_period_overall, months_behind,"
            " last_loaded_at FROM v_missing_deliveries WHERE missing_latest ORDER BY dataset"
        )
    except duckdb.CatalogException:
        return [], "此数据库没有报送情况视图 this database has no view of missing deliveries (v_missing_deliveries)"
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()], None


def _region(code: str) -> str:
    return code if code == NO_REGION else region_label(code)


def _money_table(rows: list[dict[str, Any]], key: str, label, order) -> Table:
    """Cases, amount at risk, recovered, written off and outstanding per `key`, ordered by `order`."""
    groups: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"count": 0, "amount": ZERO, "recovered": ZERO, "written_off": ZERO}
    )
    for r in rows:
        g = groups[r[key]]
        g["count"] += 1
        g["amount"] += r["amount"]
        g["recovered"] += r["recovered"]
        g["written_off"] += r["written_off"]
    columns = [
        Col("类别 group"),
        Col("件数 cases", "int"),
        Col("涉及金额 at risk", "money"),
        Col("已追回 recovered", "money"),
        Col("核销 written off", "money"),
        Col("待追回 outstanding", "money"),
    ]
    body = []
    for name in sorted(groups, key=order):
        g = groups[name]
        rest = max(g["amount"] - g["recovered"] - g["written_off"], ZERO)
        body.append([label(name), g["count"], g["amount"], g["recovered"], g["written_off"], rest])
    return Table(columns, body)


def _chart(table: Table, title: str, values: tuple[int, ...]) -> ChartView | None:
    return chart_view(table, Chart(title, 0, values, kind="bar")) if table.rows else None


def overview(
    register: Path, db: Path, memory_limit: str, zone: ZoneInfo, member: staff_register.Staff, today: dt.date
) -> dict[str, object]:
    """Everything the overview page shows, for one staff member on one day."""
    published = read_published(db, memory_limit)
    rows = [r for r in cases_at(read_register(register), today, published.pairs) if casework.may_see(member, r)]
    iso, week = today.isoformat(), (today + dt.timedelta(days=7)).isoformat()
    open_ = [r for r in rows if r["status_at"] not in CLOSED]
    amount = sum((r["amount"] for r in rows), ZERO)
    recovered = sum((r["recovered"] for r in rows), ZERO)
    written_off = sum((r["written_off"] for r in rows), ZERO)
    by_rule = _money_table(rows, "rule", rule_name, rule_sort_key)
    by_region = _money_table(rows, "region", _region, lambda code: (code == NO_REGION, code))
    runs = published.runs[-TREND_RUNS:]
    trend = Table(
        [Col("数据日期 as of"), Col("疑点 findings", "int"), Col("隔离行 quarantined", "int")],
        [[str(r["as_of"]), r["findings"], r["rows_quarantined"]] for r in runs],
    )
    latest = dict(runs[-1]) if runs else None
    if latest is not None:
        latest["status_label"] = run_status_label(latest["status"])
        latest["finished"] = shown_time(latest["finished_at"], zone) if latest["finished_at"] else "-"
    missing = [
        {**m, "at": shown_time(m["last_loaded_at"], zone) if m["last_loaded_at"] else "-"} for m in published.missing
    ]
    return {
        "total": len(rows),
        "open": len(open_),
        "overdue": sum(1 for r in rows if r["overdue"]),
        "due_this_week": sum(1 for r in open_ if r["due_date"] and iso <= r["due_date"] <= week),
        "amount": fmt_money(amount),
        "recovered": fmt_money(recovered),
        "written_off": fmt_money(written_off),
        "recovered_share": f"{(recovered / amount * 100):.1f}%" if amount > 0 else "-",
        "by_rule": table_view(by_rule),
        "by_region": table_view(by_region),
        "rule_chart": _chart(by_rule, "涉及金额 amount at risk", (2,)),
        "region_chart": _chart(by_region, "涉及金额 amount at risk", (2,)),
        "recovery_chart": _chart(by_rule, "涉及、追回与核销 at risk, recovered, written off", (2, 3, 4)),
        "trend_chart": _chart(trend, f"最近{len(runs)}次运行的疑点数 findings of the last runs", (1,)),
        "trend": table_view(trend),
        "latest_run": latest,
        "missing": missing,
        "unavailable": published.unavailable,
        "may_see_quality": member.role in ("chief", "auditor"),
        # 监测预警: the latest run's early warnings of the regions the viewer covers (the province: chiefs, auditors)
        "warnings": [
            {
                **w,
                "region": monitoring.region_text(w["region_code"]),
                "level_label": monitoring.level_label(w["level"]),
                "indicator_label": monitoring.BY_CODE[w["indicator"]].label,
                "value_shown": monitoring.shown_value(w["indicator"], w["value"]),
                "threshold_shown": monitoring.shown_value(w["indicator"], w["threshold"]),
            }
            for w in published.warnings
            if member.role != "admin" and member.covers(w["region_code"])
        ],
        # 专项检查 (policy §五): this year's halves, 上半年 已开展（已签发） / 下半年 未开展
        "inspections": special_inspections.overview_line(
            special_inspections.statuses_for(register, today.year, None, None)  # as the register stands
        ),
    }
