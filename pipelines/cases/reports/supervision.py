"""定期报告 (监督报告), half-year or annual, with exactly the five sections the policy lists.

Fund figures (benefits, contributions, special account) and nightly runs come from the DuckDB file; cases
from the register. The 基金安全评估 is judged by fixed thresholds on the numbers of `assessment`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.cases import register as case_register
from pipelines.cases.reports.common import (
    SEVERITY_COLUMNS,
    TOTAL,
    UNRESOLVED,
    data_quality_line,
    first_per_case,
    rule_table,
    severity_cells,
    sum_amount,
    tally,
)
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.measures import MEASURES
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import (
    between,
    cases_at,
    cutoff_day,
    duck_rows,
    events_between,
    half_bounds,
    yyyymm,
)
from pipelines.present.labels import code_label, rule_name, rule_sort_key
from pipelines.present.money import ZERO, fmt_money, fmt_pct, ratio
from pipelines.warehouse import session

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
) -> list[Path]:
    """定期报告: half-year (half=1 or 2) or annual (half=None) `监督报告_2025H1` / `监督报告_2025年度`.

    `today` is the command's day (Asia/Shanghai): the cut-off day is the period's last day, or `today`
    if earlier, unless `as_of` is given. `memory_limit` is DuckDB's, from the settings.
    """
    first, last = half_bounds(year, half)
    cutoff = cutoff_day(last, as_of, today)
    periods = {"period_from": yyyymm(first), "period_to": yyyymm(last)}
    dates = {"date_from": first, "date_to": cutoff}
    with case_register.reader(register) as con:
        cases = cases_at(con, cutoff)
        events = events_between(con, first, cutoff)
    with session.reader(db, memory_limit=memory_limit) as con:
        fund = {
            "benefits": duck_rows(con, "fund_benefits.sql", periods),
            "paid": duck_rows(con, "fund_persons_paid.sql", periods)[0],
            "contributions": duck_rows(con, "fund_contributions.sql", periods),
            "ledger": duck_rows(con, "fund_ledger.sql", dates),
            "runs": duck_rows(con, "runs_between.sql", dates),
        }
    period_label = f"{year}年上半年" if half == 1 else f"{year}年下半年" if half == 2 else f"{year}年度"
    doc = supervision_document(period_label, first, last, cutoff, cases, events, fund)
    stem = f"监督报告_{year}H{half}" if half else f"监督报告_{year}年度"
    return write_report(doc, out_dir, stem)


def supervision_document(
    period_label: str,
    first: dt.date,
    last: dt.date,
    cutoff: dt.date,
    cases: list[dict[str, Any]],
    events: list[dict[str, Any]],
    fund: dict[str, Any],
) -> Document:
    in_period = lambda value: between(value, first, cutoff)  # noqa: E731
    new = [c for c in cases if in_period(c["first_seen"])]
    confirmed = [c for c in cases if in_period(c["confirmed_on"])]
    dismissed = first_per_case(e for e in events if e["action"] == "dismiss")
    rectified = [c for c in cases if in_period(c["rectified_on"])]
    assigned = {e["suspect_id"] for e in events if e["action"] == "assign"}
    reopened = [e for e in events if e["action"] == "reopened"]
    overdue = [c for c in cases if c["overdue"]]
    runs = fund["runs"]

    sections = [
        Section(SUPERVISION_SECTIONS[0], _fund_blocks(fund, first, last)),
        Section(SUPERVISION_SECTIONS[1], _work_blocks(runs, new, assigned, confirmed, dismissed)),
        Section(SUPERVISION_SECTIONS[2], _disposal_blocks(confirmed, dismissed, rectified, cases)),
        Section(SUPERVISION_SECTIONS[3], _assessment_blocks(cases, overdue, reopened, rectified, cutoff)),
        Section(SUPERVISION_SECTIONS[4], _problem_blocks(new, overdue, runs)),
    ]
    return Document(
        title=f"社会保险基金监督{period_label}定期报告",
        meta=[
            "Periodic supervision report 定期报告",
            f"报告期间 period：{first.isoformat()} 至 {last.isoformat()}"
            f"（待遇、征缴按所属期 {yyyymm(first)}–{yyyymm(last)}）",
            f"数据截至 cut-off：{cutoff.isoformat()}",
        ],
        sections=sections,
    )


def _fund_blocks(fund: dict[str, Any], first: dt.date, last: dt.date) -> list[str | Table]:
    benefits, paid = fund["benefits"], fund["paid"]
    contributions, ledger = fund["contributions"], fund["ledger"]
    assessed = sum((r["assessed"] for r in contributions), ZERO)
    collected = sum((r["collected"] for r in contributions), ZERO)
    inflow = sum((r["inflow"] for r in ledger), ZERO)
    outflow = sum((r["outflow"] for r in ledger), ZERO)
    blocks: list[str | Table] = [
        f"本期（所属期 {yyyymm(first)}–{yyyymm(last)}）共发放待遇 {paid['payments']:,} 笔、"
        f"{fmt_money(paid['amount'])} 元，领取待遇 {paid['persons']:,} 人；核定应缴 {fmt_money(assessed)} 元，"
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
            total=[TOTAL, "", paid["payments"], paid["persons"], paid["amount"]] if benefits else None,
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


def _work_blocks(runs, new, assigned, confirmed, dismissed) -> list[str | Table]:
    blocks: list[str | Table] = [
        "本期开展夜间交叉比对：" + data_quality_line("本期", runs),
        f"本期新发现疑点 {len(new)} 件，涉及金额 {fmt_money(sum_amount(new))} 元；下达核查 {len(assigned)} 件，"
        f"核查确认违规 {len(confirmed)} 件、排除 {len(dismissed)} 件。",
    ]
    if new:
        blocks.append(
            rule_table(new, "新发现件数", "疑点发现情况（按规则）findings by rule", "新发现疑点金额（按规则）")
        )
    blocks.append(
        Table(
            title="核查工作 verification",
            columns=[Col("事项"), Col("件数", "int")],
            rows=[
                ["新发现疑点 found", len(new)],
                ["下达核查 assigned", len(assigned)],
                ["核查确认违规 confirmed", len(confirmed)],
                ["核查排除 dismissed", len(dismissed)],
            ],
        )
    )
    return blocks


def _disposal_blocks(confirmed, dismissed, rectified, cases) -> list[str | Table]:
    recovered = sum_amount(rectified, "recovered")
    blocks: list[str | Table] = [
        f"本期确认违规案件 {len(confirmed)} 件，涉及金额 {fmt_money(sum_amount(confirmed))} 元；"
        f"排除 {len(dismissed)} 件；"
        f"整改完成 {len(rectified)} 件，追回金额 {fmt_money(recovered)} 元"
        f"（累计追回 {fmt_money(sum_amount(cases, 'recovered'))} 元）。"
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
    if dismissed:
        by_reason = tally(dismissed, lambda e: e["reason"] or "（未说明）")
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
    if rectified:
        by_rule = tally(rectified, lambda c: c["rule"])
        recovered_by = tally(rectified, lambda c: c["rule"], amount="recovered")
        blocks.append(
            Table(
                title="整改及追回（按规则）rectified and recovered",
                columns=[
                    Col("规则 rule"),
                    Col("规则名称"),
                    Col("整改件数", "int"),
                    Col("涉及金额（元）", "money"),
                    Col("追回金额（元）", "money"),
                ],
                rows=[
                    [rule, rule_name(rule), *by_rule[rule], recovered_by[rule][1]]
                    for rule in sorted(by_rule, key=rule_sort_key)
                ],
                total=[TOTAL, "", len(rectified), sum_amount(rectified), recovered],
                chart=Chart("涉及金额与追回金额（按规则）", category=1, values=(3, 4)),
            )
        )
    return blocks


def assessment(cases: list[dict[str, Any]], overdue: list[dict[str, Any]], reopened: list[dict[str, Any]]):
    """The numbers of 基金安全评估 on the cut-off day (cumulative over the register)."""
    confirmed = [c for c in cases if c["confirmed_on"] and c["status_at"] in ("confirmed", "rectified")]
    with_deadline = [c for c in cases if c["due_date"] and c["assigned_on"]]
    unresolved = [c for c in cases if c["status_at"] in UNRESOLVED]
    return {
        "confirmed_amount": sum_amount(confirmed),
        "recovered": sum_amount(cases, "recovered"),
        "recovery_rate": ratio(sum_amount(cases, "recovered"), sum_amount(confirmed)),
        "unresolved": len(unresolved),
        "unresolved_amount": sum_amount(unresolved),
        "overdue": len(overdue),
        "with_deadline": len(with_deadline),
        "overdue_rate": ratio(len(overdue), len(with_deadline)),
        "reopened_in_period": len(reopened),
        "recurrent_cases": sum(1 for c in cases if (c["recurrences"] or 0) > 0),
    }


def _assessment_blocks(cases, overdue, reopened, rectified, cutoff: dt.date) -> list[str | Table]:
    a = assessment(cases, overdue, reopened)
    findings: list[str] = []
    rate = a["recovery_rate"]
    if rate is None:
        findings.append("截至数据截止日无确认违规金额，暂无追回比例可评估。")
    else:
        level = (
            "追回情况良好"
            if rate >= Decimal("0.9")
            else "追回工作仍需加强"
            if rate >= Decimal("0.5")
            else "追回比例偏低，基金损失风险较大"
        )
        findings.append(
            f"累计确认违规金额 {fmt_money(a['confirmed_amount'])} 元，累计追回 {fmt_money(a['recovered'])} 元，"
            f"追回率 {fmt_pct(rate)}，{level}。"
        )
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
    if a["reopened_in_period"] or a["recurrent_cases"]:
        findings.append(
            f"本期整改后再次发生（recurrence）{a['reopened_in_period']} 次，"
            f"累计有 {a['recurrent_cases']} 件案件出现反弹，整改成效有待巩固。"
        )
    else:
        findings.append("未发现整改后再次发生的情况。")
    risky = (rate is not None and rate < Decimal("0.5")) or (orate is not None and orate >= Decimal("0.2"))
    watch = (
        a["overdue"] or a["reopened_in_period"] or a["recurrent_cases"] or (rate is not None and rate < Decimal("0.9"))
    )
    overall = "基金安全存在较大风险" if risky else "基金安全总体可控，但存在薄弱环节" if watch else "基金安全总体平稳"
    blocks: list[str | Table] = [f"总体评估：{overall}（依据下列指标按规则判定）。"]
    blocks += [f"{i}. {text}" for i, text in enumerate(findings, start=1)]
    blocks.append(
        Table(
            title=f"评估指标（截至 {cutoff.isoformat()}）",
            columns=[Col("指标 indicator"), Col("数值 value")],
            rows=[
                ["累计确认违规金额（元）amount confirmed", fmt_money(a["confirmed_amount"])],
                ["累计追回金额（元）recovered", fmt_money(a["recovered"])],
                ["追回率 recovery rate", fmt_pct(rate)],
                ["未结案件 unresolved", str(a["unresolved"])],
                ["未结涉及金额（元）amount at risk", fmt_money(a["unresolved_amount"])],
                ["逾期案件 overdue", str(a["overdue"])],
                ["逾期率 overdue rate", fmt_pct(orate)],
                ["本期整改后再次发生 recurrences", str(a["reopened_in_period"])],
            ],
        )
    )
    return blocks


def _problem_blocks(new, overdue, runs) -> list[str | Table]:
    live = [c for c in new if c["status_at"] != "dismissed"]
    by_rule = tally(live, lambda c: c["rule"])
    top_rules = sorted(by_rule, key=lambda r: (-by_rule[r][1], rule_sort_key(r)))[:3]
    by_region = Counter(c["region"] for c in overdue)
    top_regions = sorted(by_region, key=lambda r: (-by_region[r], r))[:3]
    problems: list[str] = []
    for place, rule in enumerate(top_rules, start=1):
        count, amount = by_rule[rule]
        problems.append(
            f"{rule_name(rule)}（{rule}）：本期发现 {count} 件，涉及金额 {fmt_money(amount)} 元，"
            f"金额居各类疑点第 {place} 位。"
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
