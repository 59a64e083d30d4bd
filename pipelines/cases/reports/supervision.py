"""定期报告 (监督报告), half-year or annual, with exactly the five sections the policy lists.

Time base (stated in the report): the data period. Fund figures are those of the period's months (benefits
and contributions by 所属期, the special account by entry date); a finding belongs to the period of the first
month it concerns (period_from; one without months, the month it was found), and the findings of the period
are followed through the register as they stand on the snapshot day (`as_of`, default the day the report is
made): assigned, confirmed, dismissed, money recovered / written off by its on_date. So the fund figures and
the findings beside them cover the same months, and every section speaks of the same findings. Every figure
comes from one read of the register and one of the DuckDB file (docs/adr/0019-report-time-base.md). The
基金安全评估 is judged by fixed thresholds on the numbers of `assessment`.

After the content of the five sections an annex (附件) lists the blacklist's (黑名单, CONTRACT.md section 7)
additions and removals of the period — kind, key masked, reason, source case, who, when — dated by the day each
was made in the office's time zone, up to the snapshot day. The policy lists exactly five sections, so the annex is
not a sixth: it follows 下一步措施 as the last blocks of section 五 (in the workbook, on its sheet). The blacklist is
read with the cases, in the register's one read transaction (`sources.read_register`, ADR 0019).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.cases import inspections as special_inspections
from pipelines.cases.blacklist import KIND_ZH, KINDS, kind_label, shown_key
from pipelines.cases.indicators import history as indicator_history
from pipelines.cases.reports.adjudication import OFFICE_ZONE, local_time
from pipelines.cases.reports.common import (
    CONFIRMED,
    SEVERITY_COLUMNS,
    TOTAL,
    UNRESOLVED,
    data_quality_line,
    money_figures,
    money_sentence,
    money_table,
    pair_note,
    recovery_level,
    region_table,
    severity_cells,
    sum_amount,
    tally,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.indicators import History, trend_blocks
from pipelines.cases.reports.measures import MEASURES
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import (
    RegisterSnapshot,
    WarehouseSnapshot,
    between,
    cases_at,
    half_bounds,
    period_of_case,
    read_register,
    read_warehouse,
    yyyymm,
)
from pipelines.present.labels import CASE_STATUSES, code_label, rule_name, rule_sort_key, status_label
from pipelines.present.masking import mask_text
from pipelines.present.money import ZERO, fmt_money, fmt_pct, ratio

SUPERVISION_SECTIONS = (
    "一、基金运行基本情况",
    "二、监管工作情况",
    "三、基金案件发生及处置情况",
    "四、基金安全评估情况",
    "五、主要问题和下一步措施",
)


def supervision_report(
    register: Path,
    db: Path,
    year: int,
    half: int | None,
    out_dir: Path,
    *,
    today: dt.date,
    memory_limit: str,
    as_of: dt.date | None = None,
    zone: ZoneInfo = OFFICE_ZONE,
) -> list[Path]:
    """定期报告: half-year (half=1 or 2) or annual (half=None) `监督报告_2025H1` / `监督报告_2025年度`.

    `today` is the command's day (Asia/Shanghai): the findings of the period are followed in the register as
    they stand on `as_of`, default `today`. `memory_limit` is DuckDB's, from the settings; `zone` the office's
    time zone, the day of a blacklist change.
    """
    doc, stem = supervision_built(
        register, db, year, half, today=today, memory_limit=memory_limit, as_of=as_of, zone=zone
    )
    return write_report(doc, out_dir, stem)


def supervision_built(
    register: Path,
    db: Path,
    year: int,
    half: int | None,
    *,
    today: dt.date,
    memory_limit: str,
    as_of: dt.date | None = None,
    zone: ZoneInfo = OFFICE_ZONE,
) -> tuple[Document, str]:
    """The supervision report as a document and its file stem, written nowhere (the workbench serves it)."""
    first, last = half_bounds(year, half)
    snapshot = as_of or today

    # 基金安全评估: the indicators of the period's runs up to the snapshot day (pipelines.cases.indicators), in the
    # DuckDB file's one read; the half's special inspections in the register's (ADR 0019)
    def indicators_of(con: Any) -> Any:
        return indicator_history(con, first, min(last, snapshot))

    def inspections_of(con: Any) -> Any:
        return special_inspections.statuses_in(con, year, half, snapshot)

    warehouse = read_warehouse(
        db,
        memory_limit=memory_limit,
        months=(yyyymm(first), yyyymm(last)),
        dates=(first, last),
        also={"indicators": indicators_of},
    )
    register_snapshot = read_register(register, also={"inspections": inspections_of})
    period_label = f"{year}年上半年" if half == 1 else f"{year}年下半年" if half == 2 else f"{year}年度"
    doc = supervision_document(
        period_label,
        first,
        last,
        snapshot,
        register_snapshot,
        warehouse,
        zone=zone,
        inspections=register_snapshot.also["inspections"],
        indicators=warehouse.also["indicators"],
    )
    return doc, f"监督报告_{year}H{half}" if half else f"监督报告_{year}年度"


def supervision_document(
    period_label: str,
    first: dt.date,
    last: dt.date,
    snapshot: dt.date,
    register: RegisterSnapshot,
    warehouse: WarehouseSnapshot,
    *,
    zone: ZoneInfo = OFFICE_ZONE,
    inspections: list[special_inspections.HalfStatus] | None = None,
    indicators: History | None = None,
) -> Document:
    months = (yyyymm(first), yyyymm(last))
    every = cases_at(register, snapshot, warehouse.pairs)
    cases = [c for c in every if months[0] <= period_of_case(c) <= months[1]]
    runs = [r for r in warehouse.runs if between(str(r["as_of"]), first, snapshot)]
    sections = [
        Section(SUPERVISION_SECTIONS[0], _fund_blocks(warehouse.fund, first, last)),
        Section(
            SUPERVISION_SECTIONS[1],
            _work_blocks(runs, cases, first, snapshot)
            # 专项检查 (policy §五): the half's inspections and a warning for a half without a signed one
            + (special_inspections.report_blocks(inspections, period_label) if inspections is not None else []),
        ),
        Section(SUPERVISION_SECTIONS[2], _disposal_blocks(cases, snapshot)),
        Section(SUPERVISION_SECTIONS[3], _assessment_blocks(cases, snapshot, indicators)),
        Section(
            SUPERVISION_SECTIONS[4],
            _problem_blocks(cases, runs) + blacklist_annex(register.blacklist, first, last, snapshot, zone),
        ),
    ]
    return Document(
        title=f"社会保险基金监督{period_label}定期报告",
        meta=[
            "Periodic supervision report 定期报告",
            f"报告期间 period：{first.isoformat()} 至 {last.isoformat()}（所属期 {months[0]}–{months[1]}）",
            f"数据截至 snapshot：{snapshot.isoformat()}",
            f"口径 time base：按数据所属期——待遇、征缴按所属期 {months[0]}–{months[1]}，财政专户按记账日期；"
            f"疑点按所属期起始月（period_from）归入本期；本期疑点的核查处置为截至 {snapshot.isoformat()} 的"
            "登记簿状态（按登记簿所载业务日期），追回、核销按款项日期（on_date）；专户账实不符配对（仅日期超窗的同一笔款项）"
            f"金额只计一次；附件黑名单变动按列入、移出日期（{zone.key} 时间）计入本期。",
        ],
        sections=sections,
        date=snapshot,
    )


def _fund_blocks(fund: dict[str, Any], first: dt.date, last: dt.date) -> list[str | Table]:
    benefits = [r for r in fund["benefits"] if not r["is_total"]]
    paid = next(r for r in fund["benefits"] if r["is_total"])  # persons paid: distinct, counted by the query
    contributions, ledger = fund["contributions"], fund["ledger"]
    assessed = sum((r["assessed"] for r in contributions), ZERO)
    collected = sum((r["collected"] for r in contributions), ZERO)
    inflow = sum((r["inflow"] for r in ledger), ZERO)
    outflow = sum((r["outflow"] for r in ledger), ZERO)
    blocks: list[str | Table] = [
        f"本期（所属期 {yyyymm(first)}–{yyyymm(last)}）共发放待遇 {sum(r['payments'] for r in benefits):,} 笔、"
        f"{fmt_money(sum_amount(benefits))} 元，领取待遇 {paid['persons']:,} 人；核定应缴 {fmt_money(assessed)} 元，"
        f"征收入库 {fmt_money(collected)} 元，征缴率 {fmt_pct(ratio(collected, assessed))}；"
        f"财政专户收入 {fmt_money(inflow)} 元、支出 {fmt_money(outflow)} 元。"
    ]
    blocks.append(
        Table(
            title="（一）待遇发放 benefit payments（按待遇类型、险种）",
            columns=[
                Col("待遇类型 benefit_type"),
                Col("险种 scheme"),
                Col("笔数", "int"),
                Col("人数", "int"),
                Col("发放金额（元）", "money"),
            ],
            rows=[
                [
                    code_label("benefit_type", r["benefit_type"]),
                    code_label("scheme", r["scheme"]),
                    r["payments"],
                    r["persons"],
                    r["amount"],
                ]
                for r in benefits
            ],
            total=[TOTAL, "", sum(r["payments"] for r in benefits), paid["persons"], sum_amount(benefits)]
            if benefits
            else None,
            chart=Chart("待遇发放金额（按待遇类型、险种）", category=0, category_to=1, values=(4,)),
        )
    )
    blocks.append(
        Table(
            title="（二）基金征缴 contributions assessed vs collected（按险种）",
            columns=[
                Col("险种 scheme"),
                Col("核定应缴（元）", "money"),
                Col("征收入库（元）", "money"),
                Col("差额（元）", "money"),
                Col("征缴率", "pct"),
            ],
            rows=[
                [
                    code_label("scheme", r["scheme"]),
                    r["assessed"],
                    r["collected"],
                    r["assessed"] - r["collected"],
                    ratio(r["collected"], r["assessed"]),
                ]
                for r in contributions
            ],
            total=[TOTAL, assessed, collected, assessed - collected, ratio(collected, assessed)]
            if contributions
            else None,
            chart=Chart("核定应缴与征收入库（按险种）", category=0, values=(1, 2)),
        )
    )
    blocks.append(
        Table(
            title="（三）财政专户收支 special account inflow/outflow（按险种）",
            columns=[
                Col("险种 scheme"),
                Col("收入（元）", "money"),
                Col("支出（元）", "money"),
                Col("净额（元）", "money"),
            ],
            rows=[
                [code_label("scheme", r["scheme"] or None), r["inflow"], r["outflow"], r["inflow"] - r["outflow"]]
                for r in ledger
            ],
            total=[TOTAL, inflow, outflow, inflow - outflow] if ledger else None,
        )
    )
    return blocks


def _work_blocks(runs, cases, first: dt.date, snapshot: dt.date) -> list[str | Table]:
    """二、监管工作情况: the runs, then the findings of the period by rule and region and where they stand."""
    statuses = Counter(c["status_at"] for c in cases)
    confirmed = [c for c in cases if c["status_at"] in CONFIRMED]
    assigned = [c for c in cases if c["assigned_dates"]]
    blocks: list[str | Table] = [
        f"本期开展夜间交叉比对（运行日期 {first.isoformat()} 至 {snapshot.isoformat()}）："
        + data_quality_line("", runs),
        f"本期疑点 {len(cases)} 件，涉及金额 {fmt_money(sum_amount(cases))} 元；截至 {snapshot.isoformat()}，"
        f"已下达核查 {len(assigned)} 件，确认违规 {len(confirmed)} 件（含部分追回、已整改），"
        f"排除 {statuses['dismissed']} 件，待核查 {statuses['open']} 件、核查中 {statuses['under_verification']} 件。",
    ]
    if cases:
        blocks.append(findings_by_rule(cases))
        blocks.append(region_table(cases, "疑点件数", "疑点发现情况（按统筹区）findings by region"))
    blocks.append(
        Table(
            title=f"核查工作（截至 {snapshot.isoformat()}）verification",
            columns=[Col("状态 status"), Col("件数", "int"), Col("涉及金额（元）", "money")],
            rows=[
                [
                    status_label(CASE_STATUSES, status),
                    statuses[status],
                    sum_amount(c for c in cases if c["status_at"] == status),
                ]
                for status in (
                    "open",
                    "under_verification",
                    "confirmed",
                    "partially_recovered",
                    "rectified",
                    "dismissed",
                )
            ],
            total=[TOTAL, len(cases), sum_amount(cases)],
        )
    )
    note = pair_note(cases)
    if note:
        blocks.append(note)
    return blocks


def findings_by_rule(cases: list[dict[str, Any]]) -> Table:
    """The findings of the period by rule: all, of which dismissed, and those not dismissed (主要问题 quotes it)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        groups[c["rule"]].append(c)

    def cells(members: list[dict[str, Any]]) -> list[Any]:
        live = [c for c in members if c["status_at"] != "dismissed"]
        return [len(members), sum_amount(members), len(members) - len(live), len(live), sum_amount(live)]

    return Table(
        title="疑点发现情况（按规则）findings by rule",
        columns=[
            Col("规则 rule"),
            Col("规则名称"),
            Col("疑点件数", "int"),
            Col("涉及金额（元）", "money"),
            Col("其中排除", "int"),
            Col("未排除件数", "int"),
            Col("未排除涉及金额（元）", "money"),
        ],
        rows=[[rule, rule_name(rule), *cells(groups[rule])] for rule in sorted(groups, key=rule_sort_key)],
        total=[TOTAL, "", *cells(cases)],
        chart=Chart("本期疑点金额（按规则）", category=1, values=(3,)),
    )


def _disposal_blocks(cases: list[dict[str, Any]], snapshot: dt.date) -> list[str | Table]:
    """三、基金案件发生及处置情况: the confirmed cases (severity, money) and the dismissed ones (reasons)."""
    confirmed = [c for c in cases if c["status_at"] in CONFIRMED]
    dismissed = [c for c in cases if c["status_at"] == "dismissed"]
    rectified = [c for c in confirmed if c["status_at"] == "rectified"]
    partial = [c for c in confirmed if c["status_at"] == "partially_recovered"]
    blocks: list[str | Table] = [
        money_sentence(confirmed, f"截至 {snapshot.isoformat()}，本期疑点中")
        + f"其中已整改 {len(rectified)} 件、部分追回 {len(partial)} 件；排除 {len(dismissed)} 件，"
        f"涉及金额 {fmt_money(sum_amount(dismissed))} 元。"
    ]
    if confirmed:
        rules = sorted({c["rule"] for c in confirmed}, key=rule_sort_key)
        blocks.append(
            Table(
                title="确认违规案件（按规则、要情等级）confirmed by rule and severity",
                columns=[Col("规则 rule"), Col("规则名称"), *SEVERITY_COLUMNS],
                rows=[
                    [rule, rule_name(rule), *severity_cells([c for c in confirmed if c["rule"] == rule])]
                    for rule in rules
                ],
                total=[TOTAL, "", *severity_cells(confirmed)],
                chart=Chart("确认违规金额（按规则、要情等级）", category=1, values=(3, 5), stacked=True),
            )
        )
        blocks.append(money_table(confirmed, "rule", "规则 rule", "追回、核销及待追回（按规则）money by rule"))
        blocks.append(
            money_table(confirmed, "region", "统筹区 region", "追回、核销及待追回（按统筹区）money by region")
        )
    if dismissed:
        by_reason = tally(dismissed, lambda c: c["dismissed_reason_at"] or "（未说明）")
        blocks.append(
            Table(
                title="排除情况（按理由）dismissed with reasons",
                columns=[Col("排除理由 reason"), Col("件数", "int"), Col("涉及金额（元）", "money")],
                rows=[
                    [reason, *by_reason[reason]] for reason in sorted(by_reason, key=lambda k: (-by_reason[k][0], k))
                ],
                total=[TOTAL, len(dismissed), sum_amount(dismissed)],
            )
        )
    return blocks


def assessment(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers of 基金安全评估 over the findings of the period, as they stand on the snapshot day."""
    confirmed = [c for c in cases if c["status_at"] in CONFIRMED]
    with_deadline = [c for c in cases if c["due_date"] and c["assigned_dates"]]
    unresolved = [c for c in cases if c["status_at"] in UNRESOLVED]
    overdue = [c for c in cases if c["overdue"]]
    return {
        "money": money_figures(confirmed),
        "unresolved": len(unresolved),
        "unresolved_amount": sum_amount(unresolved),
        "overdue": len(overdue),
        "with_deadline": len(with_deadline),
        "overdue_rate": ratio(len(overdue), len(with_deadline)),
        "recurrent_cases": sum(1 for c in cases if (c["recurrences"] or 0) > 0),
    }


def _assessment_blocks(
    cases: list[dict[str, Any]], snapshot: dt.date, indicators: History | None = None
) -> list[str | Table]:
    """四、基金安全评估情况: the cases of the period judged by fixed thresholds, then (given the indicator history of
    the period's runs) the monitoring indicators, their trend and early warnings (`reports.indicators.trend_blocks`)."""
    a = assessment(cases)
    m = a["money"]
    rate = m["rate"]
    findings: list[str] = []
    if rate is None:
        findings.append("截至数据截止日无确认违规金额，暂无追回比例可评估。")
    else:
        findings.append(
            f"确认违规金额 {fmt_money(m['amount'])} 元，已追回 {fmt_money(m['recovered'])} 元，"
            f"追回率 {fmt_pct(rate)}，{recovery_level(rate)}；核销 {fmt_money(m['written_off'])} 元，"
            f"待追回 {fmt_money(m['outstanding'])} 元。"
        )
    if m["excess"]:
        findings.append(f"另追回超出涉及金额部分（罚没等）{fmt_money(m['excess'])} 元，单列，不计入追回率。")
    findings.append(f"未结案件 {a['unresolved']} 件，涉及金额 {fmt_money(a['unresolved_amount'])} 元，尚处于风险敞口。")
    orate = a["overdue_rate"]
    if not a["overdue"]:
        findings.append("已下达整改期限的案件均未逾期。")
    else:
        level = (
            "逾期比例较高，需挂牌督办" if orate is not None and orate >= Decimal("0.2") else "逾期比例较低，需督促办结"
        )
        findings.append(
            f"逾期案件 {a['overdue']} 件，占已下达整改期限案件 {a['with_deadline']} 件的 {fmt_pct(orate)}，{level}。"
        )
    if a["recurrent_cases"]:
        findings.append(f"有 {a['recurrent_cases']} 件案件整改后再次发生（recurrence），整改成效有待巩固。")
    else:
        findings.append("未发现整改后再次发生的情况。")
    risky = (rate is not None and rate < Decimal("0.5")) or (orate is not None and orate >= Decimal("0.2"))
    watch = a["overdue"] or a["recurrent_cases"] or (rate is not None and rate < Decimal("0.9"))
    overall = "基金安全存在较大风险" if risky else "基金安全总体可控，但存在薄弱环节" if watch else "基金安全总体平稳"
    blocks: list[str | Table] = [f"总体评估：{overall}（依据下列指标按规则判定）。"]
    blocks += [f"{i}. {text}" for i, text in enumerate(findings, start=1)]
    blocks.append(
        Table(
            title=f"评估指标（截至 {snapshot.isoformat()}）",
            columns=[Col("指标 indicator"), Col("数值 value")],
            rows=[
                ["确认违规金额（元）amount confirmed", fmt_money(m["amount"])],
                ["已追回金额（元）recovered", fmt_money(m["recovered"])],
                ["追回率 recovery rate", fmt_pct(rate)],
                ["核销金额（元）written off", fmt_money(m["written_off"])],
                ["待追回金额（元）outstanding", fmt_money(m["outstanding"])],
                ["超出涉及金额的追回（罚没等）（元）excess", fmt_money(m["excess"])],
                ["未结案件 unresolved", str(a["unresolved"])],
                ["未结涉及金额（元）amount at risk", fmt_money(a["unresolved_amount"])],
                ["逾期案件 overdue", str(a["overdue"])],
                ["逾期率 overdue rate", fmt_pct(orate)],
                ["整改后再次发生 recurrent cases", str(a["recurrent_cases"])],
            ],
        )
    )
    if indicators is not None:
        blocks.append("监测指标及趋势（统计分析、监测预警）indicators and their trend")
        blocks += trend_blocks(indicators)
    return blocks


def _problem_blocks(cases: list[dict[str, Any]], runs: list[dict[str, Any]]) -> list[str | Table]:
    """五、主要问题和下一步措施: the figures are those of the tables above (by rule, overdue by region)."""
    table = findings_by_rule(cases)
    by_rule = {row[0]: row for row in table.rows}
    top_rules = sorted((r for r in by_rule if by_rule[r][5]), key=lambda r: (-by_rule[r][6], rule_sort_key(r)))[:3]
    overdue = [c for c in cases if c["overdue"]]
    by_region = Counter(c["region"] for c in overdue)
    top_regions = sorted(by_region, key=lambda r: (-by_region[r], r))[:3]
    problems: list[str] = []
    for place, rule in enumerate(top_rules, start=1):
        _, _, count, amount, dismissed, live, live_amount = by_rule[rule]
        problems.append(
            f"{rule_name(rule)}（{rule}）：本期疑点 {count} 件、涉及金额 {fmt_money(amount)} 元，"
            f"其中未排除 {live} 件、{fmt_money(live_amount)} 元，金额居各类疑点第 {place} 位。"
        )
    if top_regions:
        listed = "、".join(f"{r}（{by_region[r]} 件）" for r in top_regions)
        problems.append(f"核查整改逾期：逾期案件 {len(overdue)} 件，逾期案件最多的统筹区为 {listed}。")
    quarantined = sum(r["rows_quarantined"] for r in runs)
    rejected = sum(r["files_rejected"] for r in runs)
    if quarantined or rejected:
        problems.append(f"报送数据质量有待提高：本期隔离不合格数据 {quarantined:,} 行，拒收文件 {rejected:,} 个。")
    measures = [f"针对{rule_name(rule)}：{MEASURES.get(rule, '对该类疑点开展专项核查')}。" for rule in top_rules]
    if top_regions:
        measures.append(f"督促{'、'.join(top_regions)}等统筹区在整改期限内完成核查整改，对逾期案件挂牌督办、定期通报。")
    if quarantined or rejected:
        measures.append("会同数据提供部门治理源头数据质量，及时补报、更正被隔离和拒收的数据。")
    blocks: list[str | Table] = ["（一）主要问题"]
    blocks += [f"{i}. {text}" for i, text in enumerate(problems, start=1)] or ["本期未发现突出问题。"]
    blocks.append("（二）下一步措施")
    measures = measures or ["继续按期开展交叉比对和定期自查，保持对基金风险的常态化监测。"]
    blocks += [f"{i}. {text}" for i, text in enumerate(measures, start=1)]
    return blocks


# ---- 附件: the blacklist's additions and removals of the period ----------------------------------------------------


def _when(stamp: str | None, zone: ZoneInfo) -> str:
    return local_time(stamp, zone).strftime("%Y-%m-%d %H:%M") if stamp else ""


def blacklist_changes(
    entries: list[dict[str, Any]], first: dt.date, last: dt.date, snapshot: dt.date, zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """The entries added and those removed from `first` to the earlier of `last` and `snapshot` (the office's
    days), and those in force at the end of `snapshot`; each entry with `added_day`, `removed_day` (None when not
    removed by the snapshot day)."""
    end = min(last, snapshot)
    rows = []
    for e in entries:
        added = local_time(e["added_at"], zone).date()
        if added > snapshot:
            continue  # not yet on the list on the snapshot day
        removed = local_time(e["removed_at"], zone).date() if e["removed_at"] else None
        rows.append({**e, "added_day": added, "removed_day": removed if removed and removed <= snapshot else None})
    return {
        "added": [r for r in rows if first <= r["added_day"] <= end],
        "removed": [r for r in rows if r["removed_day"] is not None and first <= r["removed_day"] <= end],
        "in_force": [r for r in rows if r["removed_day"] is None],
    }


def blacklist_annex(
    entries: list[dict[str, Any]], first: dt.date, last: dt.date, snapshot: dt.date, zone: ZoneInfo
) -> list[str | Table]:
    """附件 黑名单新增及移出情况: counts by kind, then every addition and every removal of the period."""
    end = min(last, snapshot)
    changes = blacklist_changes(entries, first, last, snapshot, zone)
    added, removed, in_force = changes["added"], changes["removed"], changes["in_force"]
    blocks: list[str | Table] = ["附件　本期黑名单新增及移出情况（Annex: blacklist additions and removals）"]
    if not added and not removed:
        blocks.append(
            f"本期（{first.isoformat()} 至 {end.isoformat()}）黑名单无新增、无移出；"
            f"截至 {snapshot.isoformat()} 日终在册 {len(in_force)} 条。"
        )
        return blocks
    by_kind = "、".join(f"{KIND_ZH[k]} {n} 条" for k in KINDS if (n := sum(1 for e in added if e["kind"] == k)))
    blocks.append(
        f"本期（{first.isoformat()} 至 {end.isoformat()}）黑名单新增 {len(added)} 条"
        + (f"（{by_kind}）" if by_kind else "")
        + f"，移出 {len(removed)} 条；截至 {snapshot.isoformat()} 日终在册 {len(in_force)} 条。"
        "移出的条目保留在黑名单记录中，不删除。"
    )
    kinds = [k for k in KINDS if any(e["kind"] == k for e in [*added, *removed, *in_force])]
    blocks.append(
        Table(
            title="黑名单变动（按类型）blacklist changes by kind",
            columns=[
                Col("类型 kind"),
                Col("本期新增 added", "int"),
                Col("本期移出 removed", "int"),
                Col(f"截至 {snapshot.isoformat()} 在册 in force", "int"),
            ],
            rows=[
                [
                    kind_label(k),
                    sum(1 for e in added if e["kind"] == k),
                    sum(1 for e in removed if e["kind"] == k),
                    sum(1 for e in in_force if e["kind"] == k),
                ]
                for k in kinds
            ],
            total=[TOTAL, len(added), len(removed), len(in_force)],
        )
    )
    if added:
        blocks.append(
            Table(
                title="本期新增 additions（身份证号、账号已脱敏）",
                columns=[
                    Col("编号 entry", "int"),
                    Col("类型 kind"),
                    Col("对象 key"),
                    Col("列入理由 reason"),
                    Col("来源案件 source case"),
                    Col("列入人 added by"),
                    Col("列入时间 added at"),
                    Col(f"截至 {snapshot.isoformat()} 状态"),
                ],
                rows=[
                    [
                        e["entry_id"],
                        kind_label(e["kind"]),
                        shown_key(e["kind"], e["key"]),
                        mask_text(e["reason"]),
                        e["source_suspect_id"] or "—",
                        e["added_by"],
                        _when(e["added_at"], zone),
                        "在册 in force"
                        if e["removed_day"] is None
                        else f"已移出 removed {e['removed_day'].isoformat()}",
                    ]
                    for e in added
                ],
            )
        )
    if removed:
        blocks.append(
            Table(
                title="本期移出 removals（身份证号、账号已脱敏）",
                columns=[
                    Col("编号 entry", "int"),
                    Col("类型 kind"),
                    Col("对象 key"),
                    Col("列入理由 reason"),
                    Col("移出理由 removal reason"),
                    Col("移出人 removed by"),
                    Col("移出时间 removed at"),
                    Col("列入时间 added at"),
                ],
                rows=[
                    [
                        e["entry_id"],
                        kind_label(e["kind"]),
                        shown_key(e["kind"], e["key"]),
                        mask_text(e["reason"]),
                        mask_text(e["removal_reason"] or ""),
                        e["removed_by"],
                        _when(e["removed_at"], zone),
                        _when(e["added_at"], zone),
                    ]
                    for e in removed
                ],
            )
        )
    return blocks
