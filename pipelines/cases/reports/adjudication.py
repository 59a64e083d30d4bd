"""事前筛查核实认定月报 monthly adjudication report: the payment batches screened in a month (事前预防, CONTRACT.md
section 7), what was held, and what became of the holds — released (准予发放), stopped (不予发放) or still pending
(待认定) — per reason and per pooling region, like Do Not Pay's monthly adjudication.

Time base (stated in the report): the screenings whose `screened_at` falls in the month, in the office's time zone
(up to the cut-off day when that comes first); the decisions in force at the end of the cut-off day — the day the
report is made, or `as_of` — the last one recorded by then for each held row (none, or one set back, is pending).
A held row with several reasons counts under each of them; every total counts a row once.

Every figure comes from one read of the case register (`read_screening_register`, one read transaction): the
screenings, their rows per region (`screening_counts`, the "screened"), their held rows and every decision; a
sentence, the table beside it and its 合计 row are sums over the same rows (docs/adr/0019-report-time-base.md).
The DuckDB file is not read: a screening keeps in the register all the report needs. A register from before
screening existed has none to report.

Grain of the tables: one row per reason code (all nine, in the contract's order), per pooling region, per channel
(command line, the service); the pending list one row per held row. Person IDs are masked, bank accounts not shown.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.cases import register as case_register
from pipelines.cases.adjudication import DECISION_EN, DECISION_ZH, DECISIONS
from pipelines.cases.reports.common import NO_REGION, TOTAL
from pipelines.cases.reports.document import Chart, Col, Document, Section, Table
from pipelines.cases.reports.output import write_report
from pipelines.cases.reports.sources import month_bounds
from pipelines.present.labels import SCREEN_REASON_ZH, SCREEN_REASONS, code_label
from pipelines.present.masking import mask_id, mask_text
from pipelines.present.money import ZERO, fmt_money
from pipelines.warehouse.sql import read_sql

# The office's time zone when the caller names none (the settings' default, FUNDWATCH_TIMEZONE): the day a
# timestamp with an offset belongs to.
OFFICE_ZONE = ZoneInfo("Asia/Shanghai")

# The contract's reasons for a hold, in its order (section 7), with the Chinese an official reads.
REASONS = SCREEN_REASONS
REASON_ZH = SCREEN_REASON_ZH
CHANNEL_ZH = {"cli": "命令行", "api": "接口"}  # how the batch came: `fundwatch screen`, POST /api/screen

# The figures of a group of held rows, in the order of the tables' columns (`hold_cells`).
HOLD_COLUMNS = [
    Col("暂停行数 held", "int"),
    *(Col(f"{DECISION_ZH[d]} {DECISION_EN[d]}", "int") for d in DECISIONS),  # 准予发放 released …
    Col("暂停金额（元）", "money"),
    Col("不予发放金额（元）", "money"),
]


def time_base(first: dt.date, period_end: dt.date, cutoff: dt.date, zone: ZoneInfo) -> str:
    return (
        f"口径 time base：统计筛查时间（screened_at，{zone.key} 时间）在 {first.isoformat()} 至 "
        f"{period_end.isoformat()} 的筛查；认定结果为截至 {cutoff.isoformat()} 日终有效的认定（同一暂停行以此前最后一次"
        "认定为准，未认定或退回待认定的计为待认定 pending）；一行有多个暂停原因的，在每个原因下各计一次，合计行每行只计"
        "一次；金额为可读取的行金额（数据无效行无金额，不计入金额），精确到分。"
    )


# ---- reading the register -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningSnapshot:
    """The screenings around a month and their rows, read from the register in one transaction."""

    screenings: list[dict[str, Any]]
    counts: list[dict[str, Any]]  # screening x region: rows, held, amount, held_amount
    holds: list[dict[str, Any]]
    decisions: list[dict[str, Any]]  # in the order recorded


def read_screening_register(path: Path, day_from: dt.date, day_to: dt.date) -> ScreeningSnapshot:
    """The screenings whose screened_at is written with a date from `day_from` to `day_to`, their counts per
    region, held rows and decisions: one read transaction, read-only. A register without screening tables (from
    before issue 15) has none."""
    params = {"day_from": day_from.isoformat(), "day_to": day_to.isoformat()}
    with case_register.reader(path) as con:
        con.isolation_level = None
        con.execute("BEGIN")
        try:
            if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'screening_adjudications'").fetchone() is None:
                return ScreeningSnapshot([], [], [], [])
            rows = {
                name: [dict(r) for r in con.execute(read_sql(f"reports/adjudication_{name}.sql"), params)]
                for name in ("screenings", "counts", "holds", "decisions")
            }
        finally:
            con.execute("COMMIT")
    return ScreeningSnapshot(**rows)


# ---- time -----------------------------------------------------------------------------------------------------


def local_time(stamp: str, zone: ZoneInfo) -> dt.datetime:
    """An ISO timestamp in the office's time zone; one written without an offset is taken as the office's time."""
    moment = dt.datetime.fromisoformat(stamp)
    return moment.astimezone(zone) if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def local_day(stamp: str, zone: ZoneInfo) -> dt.date:
    return local_time(stamp, zone).date()


# ---- the held rows as they stand on the cut-off day -------------------------------------------------------------


def _amount(text: Any) -> Decimal | None:
    return None if text is None or text == "" else Decimal(str(text))


def reason_codes(reasons: str) -> list[str]:
    """'DECEASED;BLACKLISTED' -> ['DECEASED', 'BLACKLISTED']."""
    return [code.strip() for code in (reasons or "").split(";") if code.strip()]


def month_screenings(
    snapshot: ScreeningSnapshot, first: dt.date, period_end: dt.date, zone: ZoneInfo
) -> dict[int, dict[str, Any]]:
    """screening_id -> the screening, for those screened from `first` to `period_end` (the office's days)."""
    chosen = {}
    for s in snapshot.screenings:
        moment = local_time(s["screened_at"], zone)
        if first <= moment.date() <= period_end:
            chosen[s["screening_id"]] = {**s, "screened_local": moment, "screened_day": moment.date()}
    return chosen


def holds_at(
    snapshot: ScreeningSnapshot, screenings: dict[int, dict[str, Any]], cutoff: dt.date, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Every held row of these screenings with the decision in force at the end of `cutoff`: the last recorded by
    then (pending when none). Per row: `codes` (its reasons), `amount` (Decimal, None when unreadable), `region`
    (the code, '' when none), `decision`, `screened_local` and `screened_day` (the office's time), `channel`."""
    in_force: dict[tuple[int, int], str] = {}
    for d in snapshot.decisions:  # in the order recorded: a later one replaces an earlier one
        if d["screening_id"] in screenings and local_day(d["at"], zone) <= cutoff:
            in_force[(d["screening_id"], d["line"])] = d["decision"]
    rows = []
    for h in snapshot.holds:
        screening = screenings.get(h["screening_id"])
        if screening is None:
            continue
        rows.append(
            {
                **h,
                "codes": reason_codes(h["reasons"]),
                "amount": _amount(h["amount"]),
                "region": h["region_code"] or "",
                "decision": in_force.get((h["screening_id"], h["line"]), "pending"),
                "screened_day": screening["screened_day"],
                "screened_local": screening["screened_local"],
                "channel": screening["channel"],
            }
        )
    return rows


def _money(rows: Iterable[dict[str, Any]]) -> Decimal:
    return sum((r["amount"] for r in rows if r["amount"] is not None), ZERO)


def hold_figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """held, released (proper), stopped (improper), pending, held amount, amount stopped — each row once."""
    by = {d: [r for r in rows if r["decision"] == d] for d in DECISIONS}
    return {
        "held": len(rows),
        "proper": len(by["proper"]),
        "improper": len(by["improper"]),
        "pending": len(by["pending"]),
        "held_amount": _money(rows),
        "stopped_amount": _money(by["improper"]),
    }


def hold_cells(rows: list[dict[str, Any]]) -> list[Any]:
    """The cells of `HOLD_COLUMNS` for these held rows."""
    f = hold_figures(rows)
    return [f[k] for k in ("held", "proper", "improper", "pending", "held_amount", "stopped_amount")]


def reason_label(code: str) -> str:
    return REASON_ZH.get(code, code)


def region_label(code: str) -> str:
    return code or NO_REGION


# ---- the report ----------------------------------------------------------------------------------------------


def adjudication_report(
    register: Path,
    month: str,
    out_dir: Path,
    *,
    today: dt.date,
    zone: ZoneInfo = OFFICE_ZONE,
    as_of: dt.date | None = None,
    top_n: int = 30,
) -> list[Path]:
    """事前筛查核实认定月报 for a month "YYYYMM": `核实认定月报_YYYYMM.md` and `.xlsx`; returns both paths.

    `today` is the command's day in the office's time zone `zone`: decisions count as they stand at the end of
    it, unless `as_of` is given.
    """
    doc, stem = adjudication_built(register, month, today=today, zone=zone, as_of=as_of, top_n=top_n)
    return write_report(doc, out_dir, stem)


def adjudication_built(
    register: Path,
    month: str,
    *,
    today: dt.date,
    zone: ZoneInfo = OFFICE_ZONE,
    as_of: dt.date | None = None,
    top_n: int = 30,
) -> tuple[Document, str]:
    """The monthly adjudication report as a document and its file stem, written nowhere (the workbench serves it)."""
    first, last = month_bounds(month)
    cutoff = as_of if as_of is not None else today
    period_end = min(last, cutoff)
    one_day = dt.timedelta(days=1)
    snapshot = read_screening_register(register, first - one_day, max(period_end, first) + one_day)
    doc = adjudication_document(first, period_end, cutoff, snapshot, zone, top_n=top_n)
    return doc, f"核实认定月报_{month}"


def adjudication_document(
    first: dt.date,
    period_end: dt.date,
    cutoff: dt.date,
    snapshot: ScreeningSnapshot,
    zone: ZoneInfo,
    *,
    top_n: int,
) -> Document:
    screenings = month_screenings(snapshot, first, period_end, zone)
    holds = holds_at(snapshot, screenings, cutoff, zone)
    counts = [c for c in snapshot.counts if c["screening_id"] in screenings]
    period = (
        f"{first.isoformat()} 至 {period_end.isoformat()}"
        if period_end >= first
        else f"{first.isoformat()} 起（截止日早于本月 the cut-off day is before the month）"
    )
    sections = [
        Section("一、本月筛查概况（Overview）", _overview_blocks(screenings, counts, holds, period, cutoff)),
        Section("二、按暂停原因（By reason）", _reason_blocks(holds)),
        Section("三、按统筹区（By pooling region）", _region_blocks(counts, holds)),
        Section("四、待认定暂停行（Holds pending adjudication）", _pending_blocks(holds, cutoff, top_n)),
    ]
    return Document(
        title=f"事前筛查核实认定月报（{first.year}年{first.month}月）",
        meta=[
            "Monthly adjudication report of pre-payment screening 事前筛查核实认定月报",
            f"统计期间 period：{period}（筛查时间 screened_at）",
            f"认定截至 decisions as of：{cutoff.isoformat()} 日终",
            f"报告月份 month：{first.year:04d}{first.month:02d}",
            time_base(first, period_end, cutoff, zone),
        ],
        sections=sections,
        date=cutoff,
    )


def _overview_blocks(
    screenings: dict[int, dict[str, Any]],
    counts: list[dict[str, Any]],
    holds: list[dict[str, Any]],
    period: str,
    cutoff: dt.date,
) -> list[str | Table]:
    if not screenings:
        return [f"本月（{period}）无事前筛查记录。"]
    screened = sum(c["rows"] for c in counts)
    screened_amount = sum((Decimal(c["amount"]) for c in counts), ZERO)
    by_channel: dict[str, list[int]] = defaultdict(list)
    for s in screenings.values():
        by_channel[s["channel"]].append(s["screening_id"])
    f = hold_figures(holds)
    named = [*CHANNEL_ZH, *sorted(set(by_channel) - set(CHANNEL_ZH))]
    channels = "、".join(f"{CHANNEL_ZH.get(ch, ch)} {len(by_channel.get(ch, []))} 次" for ch in named)
    sentence = (
        f"本月（{period}）共筛查 {len(screenings)} 次（{channels}），筛查数据行 {screened:,} 行、金额 "
        f"{fmt_money(screened_amount)} 元；暂停 {f['held']:,} 行、金额 {fmt_money(f['held_amount'])} 元。"
        f"截至 {cutoff.isoformat()} 日终，准予发放 {f['proper']:,} 行，不予发放 {f['improper']:,} 行"
        f"（不予发放金额 {fmt_money(f['stopped_amount'])} 元），待认定 {f['pending']:,} 行。"
    )
    rows = []
    for channel in (ch for ch in named if ch in by_channel):
        ids = set(by_channel[channel])
        mine = [c for c in counts if c["screening_id"] in ids]
        rows.append(
            [
                f"{CHANNEL_ZH.get(channel, '')} {channel}".strip(),
                len(ids),
                sum(c["rows"] for c in mine),
                *hold_cells([h for h in holds if h["screening_id"] in ids]),
            ]
        )
    table = Table(
        title="按筛查渠道 by channel",
        columns=[
            Col("渠道 channel"),
            Col("筛查次数 screenings", "int"),
            Col("筛查行数 screened", "int"),
            *HOLD_COLUMNS,
        ],
        rows=rows,
        total=[TOTAL, len(screenings), screened, *hold_cells(holds)],
    )
    return [sentence, table]


def _reason_blocks(holds: list[dict[str, Any]]) -> list[str | Table]:
    if not holds:
        return ["本月筛查无暂停行。"]
    codes = list(REASONS) + sorted({c for h in holds for c in h["codes"]} - set(REASONS))
    table = Table(
        title="按暂停原因 by reason（一行多个原因的，在每个原因下各计一次）",
        columns=[Col("原因代码 code"), Col("暂停原因 reason"), *HOLD_COLUMNS],
        rows=[[code, reason_label(code), *hold_cells([h for h in holds if code in h["codes"]])] for code in codes],
        total=[TOTAL, "（每行只计一次 each row once）", *hold_cells(holds)],
        chart=Chart("暂停行认定情况（按暂停原因）", category=1, values=(3, 4, 5), kind="bar", stacked=True),
    )
    several = [h for h in holds if len(h["codes"]) > 1]
    counted = sum(len(h["codes"]) for h in holds)
    note = (
        f"说明：一行有多个暂停原因的，在每个原因下各计一次，故各原因的暂停行数之和（{counted:,} 行）大于合计"
        f"（{len(holds):,} 行）；本月有多个暂停原因的暂停行 {len(several):,} 行。合计行每行只计一次。"
        if several
        else "说明：本月每个暂停行只有一个暂停原因，各原因之和即合计；一行有多个暂停原因时，在每个原因下各计一次，"
        "合计行每行只计一次。"
    )
    return [table, note]


def _region_blocks(counts: list[dict[str, Any]], holds: list[dict[str, Any]]) -> list[str | Table]:
    if not counts and not holds:
        return ["本月无筛查数据行。"]
    regions = sorted({c["region_code"] or "" for c in counts} | {h["region"] for h in holds}, key=lambda r: (not r, r))
    rows = []
    for region in regions:
        mine = [c for c in counts if (c["region_code"] or "") == region]
        rows.append(
            [
                region_label(region),
                sum(c["rows"] for c in mine),
                sum((Decimal(c["amount"]) for c in mine), ZERO),
                *hold_cells([h for h in holds if h["region"] == region]),
            ]
        )
    table = Table(
        title="按统筹区 by pooling region",
        columns=[
            Col("统筹区 region"),
            Col("筛查行数 screened", "int"),
            Col("筛查金额（元）", "money"),
            *HOLD_COLUMNS,
        ],
        rows=rows,
        total=[
            TOTAL,
            sum(c["rows"] for c in counts),
            sum((Decimal(c["amount"]) for c in counts), ZERO),
            *hold_cells(holds),
        ],
        chart=Chart("暂停行认定情况（按统筹区）", category=0, values=(4, 5, 6), stacked=True),
    )
    blocks: list[str | Table] = [table]
    if "" in regions:
        blocks.append(f"“{NO_REGION}”为无法读取有效统筹区的数据行（数据无效 INVALID）。")
    return blocks


def _pending_blocks(holds: list[dict[str, Any]], cutoff: dt.date, top_n: int) -> list[str | Table]:
    pending = sorted(
        (h for h in holds if h["decision"] == "pending"),
        key=lambda h: (h["screened_local"], h["screening_id"], h["line"]),
    )
    if not pending:
        return [f"截至 {cutoff.isoformat()} 日终，本月暂停行均已核实认定，无待认定。"]
    shown = pending[:top_n]
    listed = f"下表按筛查时间列出最早的 {len(shown)} 行" if len(shown) < len(pending) else "下表逐行列出"
    blocks: list[str | Table] = [
        f"截至 {cutoff.isoformat()} 日终，本月暂停行待认定 {len(pending):,} 行，金额 {fmt_money(_money(pending))} 元；"
        f"{listed}（身份证号已脱敏；等待天数为自筛查日起的自然日）。"
    ]
    blocks.append(
        Table(
            title="待认定暂停行 holds pending adjudication",
            columns=[
                Col("筛查编号 screening", "int"),
                Col("行号 line", "int"),
                Col("筛查日期", "date"),
                Col("支付编号 payment_id"),
                Col("人员 person"),
                Col("统筹区 region"),
                Col("待遇类型 benefit_type"),
                Col("所属期 period"),
                Col("金额（元）", "money"),
                Col("暂停原因 reasons"),
                Col("等待天数 days", "int"),
            ],
            rows=[
                [
                    h["screening_id"],
                    h["line"],
                    h["screened_day"].isoformat(),
                    mask_text(h["payment_id"] or ""),
                    mask_id(h["person_id"]) if h["person_id"] else "",
                    region_label(h["region"]),
                    code_label("benefit_type", h["benefit_type"]) if h["benefit_type"] else "",
                    h["period"] or "",
                    h["amount"],
                    "；".join(f"{code} {reason_label(code)}" for code in h["codes"]),
                    (cutoff - h["screened_day"]).days,
                ]
                for h in shown
            ],
        )
    )
    return blocks
