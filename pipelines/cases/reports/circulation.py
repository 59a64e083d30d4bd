"""定期通报 circulation: the pooling regions ranked by unresolved cases, overdue cases and amount recovered.

Time base (stated in the report): the register as it stands on one day — status and overdue as of that day
(each event dated by the day the register gives it, the analyst's --on), money recovered, written off and
excess by its on_date up to that day. Every figure comes from one read of the register and one of the DuckDB
file (for the near-miss pairs whose money counts once, docs/adr/0019-report-time-base.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pipelines.cases.reports.common import (
    CONFIRMED,
    TOTAL,
    UNRESOLVED,
    competition_ranks,
    money_figures,
    money_sentence,
    money_table,
    pair_note,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import RegisterSnapshot, WarehouseSnapshot, cases_at, read_register, read_warehouse
from pipelines.present.money import ZERO, fmt_money


def circulation(register: Path, db: Path, as_of: dt.date, out_dir: Path, *, memory_limit: str) -> list[Path]:
    """定期通报 as of a day: regions ranked by unresolved cases, overdue cases and amount recovered."""
    doc, stem = circulation_built(register, db, as_of, memory_limit=memory_limit)
    return write_report(doc, out_dir, stem)


def circulation_built(register: Path, db: Path, as_of: dt.date, *, memory_limit: str) -> tuple[Document, str]:
    """The circulation as a document and its file stem, written nowhere (the workbench serves it)."""
    doc = circulation_document(as_of, read_register(register), read_warehouse(db, memory_limit=memory_limit))
    return doc, f"通报_{as_of.isoformat()}"


def region_standings(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per region: unresolved, overdue, recovered, each with its competition rank.

    Sorted by unresolved cases (most first), then overdue, then amount recovered, then region code.
    """
    regions: dict[str, dict[str, Any]] = {}
    for c in cases:
        r = regions.setdefault(
            c["region"],
            {"region": c["region"], "unresolved": 0, "unresolved_amount": ZERO, "overdue": 0, "recovered": ZERO},
        )
        if c["status_at"] in UNRESOLVED:
            r["unresolved"] += 1
            r["unresolved_amount"] += c["amount"]
        r["overdue"] += c["overdue"]
        r["recovered"] += c["recovered"]
    rows = sorted(regions.values(), key=lambda r: (-r["unresolved"], -r["overdue"], -r["recovered"], r["region"]))
    for key in ("unresolved", "overdue", "recovered"):
        for r, rank in zip(rows, competition_ranks([r[key] for r in rows]), strict=True):
            r[f"{key}_rank"] = rank
    return rows


def circulation_document(as_of: dt.date, register: RegisterSnapshot, warehouse: WarehouseSnapshot) -> Document:
    cases = cases_at(register, as_of, warehouse.pairs)
    standings = region_standings(cases)
    unresolved = sum(r["unresolved"] for r in standings)
    overdue = sum(r["overdue"] for r in standings)
    recovered = sum((r["recovered"] for r in standings), ZERO)
    confirmed = [c for c in cases if c["status_at"] in CONFIRMED]
    s1 = Section("一、总体情况（Overview）")
    s1.blocks.append(
        f"截至 {as_of.isoformat()}，{len(standings)} 个统筹区登记案件 {len(cases)} 件，未结 {unresolved} 件"
        f"（涉及金额 {fmt_money(sum((r['unresolved_amount'] for r in standings), ZERO))} 元），"
        f"逾期 {overdue} 件，累计追回金额 {fmt_money(recovered)} 元。" + money_sentence(confirmed, "其中")
    )
    reworked = recovered - money_figures(confirmed)["recovered"]
    if reworked:
        s1.blocks.append(f"累计追回中 {fmt_money(reworked)} 元属整改后再次发生、重新核查中的案件。")
    s2 = Section("二、各统筹区情况（By region）")
    s2.blocks.append(
        Table(
            columns=[
                Col("统筹区 region"),
                Col("未结案件 unresolved", "int"),
                Col("排名", "int"),
                Col("逾期案件 overdue", "int"),
                Col("排名", "int"),
                Col("追回金额（元）recovered", "money"),
                Col("排名", "int"),
                Col("未结涉及金额（元）", "money"),
            ],
            rows=[
                [
                    r["region"],
                    r["unresolved"],
                    r["unresolved_rank"],
                    r["overdue"],
                    r["overdue_rank"],
                    r["recovered"],
                    r["recovered_rank"],
                    r["unresolved_amount"],
                ]
                for r in standings
            ],
            total=[
                TOTAL,
                unresolved,
                None,
                overdue,
                None,
                recovered,
                None,
                sum((r["unresolved_amount"] for r in standings), ZERO),
            ]
            if standings
            else None,
            chart=Chart("各统筹区未结与逾期案件", category=0, values=(1, 3), kind="bar"),
        )
    )
    s3 = Section("三、排名（Rankings）")
    for key, label, kind, unit in (
        ("unresolved", "未结案件排名 ranked by unresolved cases", "int", "件"),
        ("overdue", "逾期案件排名 ranked by overdue cases", "int", "件"),
        ("recovered", "追回金额排名 ranked by amount recovered", "money", "元"),
    ):
        # only regions with something to rank; the rest share the last place and are named once
        ranked = sorted((r for r in standings if r[key]), key=lambda r, k=key: (r[f"{k}_rank"], r["region"]))
        s3.blocks.append(
            Table(
                title=label,
                columns=[Col("名次", "int"), Col("统筹区 region"), Col(f"数值（{unit}）", kind)],
                rows=[[r[f"{key}_rank"], r["region"], r[key]] for r in ranked],
                chart=Chart(label.split(" ")[0], category=1, values=(2,), kind="bar"),
            )
        )
        rest = sorted(r["region"] for r in standings if not r[key])
        if rest:
            s3.blocks.append(f"其余 {len(rest)} 个统筹区为 0：{'、'.join(rest)}。")
    note = pair_note(cases)
    if note:
        s2.blocks.append(note)
    if confirmed:
        s2.blocks.append(money_table(confirmed, "region", "统筹区 region", "追回、核销及待追回 money (确认违规案件)"))
    if not standings:
        s2.blocks.append("登记簿中尚无案件。")
    return Document(
        title=f"社会保险基金监督定期通报（{as_of.year}年{as_of.month}月{as_of.day}日）",
        meta=[
            "Periodic circulation 定期通报",
            f"数据截至 as of：{as_of.isoformat()}",
            f"口径 time base：截至 {as_of.isoformat()} 的登记簿（状态按登记簿所载业务日期），"
            "追回、核销按款项日期（on_date）；专户账实不符配对（仅日期超窗的同一笔款项）金额只计一次。",
            "未结 = 待核查、核查中、确认违规待整改、部分追回",
        ],
        sections=[s1, s2, s3],
        date=as_of,
    )
