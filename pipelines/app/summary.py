"""The end-of-run summary an official reads: Chinese first, the codes and English beside.

`run_and_summarise` is the one way a run is started and reported, by `fundwatch run` and by the
scheduled flow alike: it takes the database's writer lock (one run at a time; ADR 0014), removes what a
killed run left, runs the nightly flow, records a failure with its first cause, then reads the
**published** file read-only (analysts may be reading it too) and renders the summary: files and rows
per dataset, rejected files (those first rejected tonight, then those left standing in the inbox, already
reported), mistyped citizen IDs resolved or not per dataset, findings per rule, and whether they were
carried forward (沿用) from an earlier run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import duckdb
from rich.console import RenderableType

from pipelines.app.console import Column, table
from pipelines.app.flow import RunOutcome, nightly_run
from pipelines.app.prefect_server import TemporaryServer
from pipelines.app.settings import Settings
from pipelines.cases.indicators import warning_lines
from pipelines.ingest.inbox import HashAhead
from pipelines.ingest.registry import recorded_overlaps
from pipelines.present.labels import FILE_STATUSES, RUN_STATUSES, rule_label, status_label, status_meaning
from pipelines.present.masking import mask_ids_in_text
from pipelines.present.money import fmt_money
from pipelines.rules import RULES
from pipelines.warehouse import publication, runs
from pipelines.warehouse.lock import writer_lock
from pipelines.warehouse.session import reader
from pipelines.warehouse.sql import read_sql
from schemas.datasets import BY_NAME

Lines = list[RenderableType | str]


class RunFailed(RuntimeError):
    """A run failed; `cause` is the first error, `recorded` whether its `failed` row reached `runs`."""

    def __init__(self, run_id: str, cause: BaseException, recorded: bool, secondary: BaseException | None) -> None:
        self.run_id, self.cause, self.recorded, self.secondary = run_id, cause, recorded, secondary
        where = (
            "记录于 recorded in table `runs`"
            if recorded
            else f"未能记录 could not be recorded in `runs` either: {describe(secondary)}"
        )
        super().__init__(f"运行失败 run {run_id} failed: {describe(cause)} ({where})")


def describe(err: BaseException | None) -> str:
    """An error in one line for a person and for `runs.error`: its type and message, IDs masked, bounded."""
    if err is None:
        return ""
    text = mask_ids_in_text(" ".join(f"{type(err).__name__}: {err}".split()))
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


ERROR_CHARS = 500


def run_and_summarise(
    settings: Settings, as_of: dt.date, *, wait: float = 0.0, server: TemporaryServer | None = None
) -> tuple[RunOutcome, Lines]:
    """One nightly run under the database's writer lock, then its summary read from the published file.

    `server`: the temporary Prefect server the command started for this run (none configured); the flow waits
    for it and runs against it, and a server that does not come up fails the run like any other cause.
    Raises `RunInProgress` (nothing done) when another run holds the lock for longer than `wait` seconds,
    and `RunFailed` (the first cause; the published data unchanged) when the run fails.
    """
    started_at = settings.now()  # aware, in the office's time zone: the run id and `runs.started_at`
    run_id = runs.new_run_id(started_at)
    with writer_lock(settings.db, wait=wait, run_id=run_id):
        publication.remove_leftovers(settings.db)
        try:
            outcome = _nightly_run(settings, as_of, run_id, server)
        except Exception as err:
            raise _record_failure(settings, run_id, as_of, started_at, err) from err
        except BaseException as err:  # Ctrl-C, SIGTERM: recorded, then stop as asked
            _record_failure(settings, run_id, as_of, started_at, err)
            raise
        with reader(settings.db, memory_limit=settings.duckdb_memory_limit) as con:
            return outcome, [
                *run_summary(con, outcome.run_id),
                "",
                *findings_summary(con, outcome.run_id),
                *warning_lines(con, outcome.run_id),  # 监测预警: the run's early warnings, region names beside
            ]


def _nightly_run(settings: Settings, as_of: dt.date, run_id: str, server: TemporaryServer | None) -> RunOutcome:
    if server is None:
        return nightly_run(settings, as_of, run_id)
    ahead = HashAhead(settings.inbox)  # the run's idle core hashes the inbox while the server starts
    try:
        server.wait()
    finally:
        ahead.stop()
    with temporary_server_settings(server.api_url):
        return nightly_run(settings, as_of, run_id)


def temporary_server_settings(api_url: str) -> contextlib.AbstractContextManager[object]:
    """Prefect's settings for a flow run against the run's own temporary server at `api_url`.

    No UI is served (as under Prefect's own temporary server): no "View at <url>" line pointing nowhere. No flow
    run heartbeats: they let a lasting server mark a run whose process died as crashed, but this server dies with
    the run; and Prefect's heartbeat thread sleeps in whole seconds, so stopping it held up every run's end by up to
    one second (ADR 0031)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_UI_URL, temporary_settings

    return temporary_settings(
        updates={PREFECT_API_URL: api_url, PREFECT_UI_URL: "", PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    )


def _record_failure(
    settings: Settings, run_id: str, as_of: dt.date, started_at: dt.datetime, cause: BaseException
) -> RunFailed:
    """The `failed` row with its cause into the published file; a failure to write it is said, not raised."""
    try:
        publication.publish_failed_run(
            settings.db,
            run_id,
            as_of,
            str(settings.inbox),
            started_at,
            describe(cause),
            memory_limit=settings.duckdb_memory_limit,
        )
    except Exception as secondary:
        publication.remove_leftovers(settings.db)
        return RunFailed(run_id, cause, False, secondary)
    publication.remove_leftovers(settings.db)
    return RunFailed(run_id, cause, True, None)


SHOWN_FILE_STATUSES = ("rejected", "skipped", "replaced", "withdrawn")


def run_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Lines:
    """The run's status, then per dataset what happened to its files and rows, then the files to look at:
    rejected, withdrawn (or a withdrawal refused), and files that largely repeat another file in force."""
    order = {name: i for i, name in enumerate(BY_NAME)}
    relation = con.execute(read_sql("runs/run_summary.sql"), {"run_id": run_id})
    names = [d[0] for d in relation.description]
    rows = sorted(
        (dict(zip(names, r, strict=True)) for r in relation.fetchall()),
        key=lambda r: (order.get(r["dataset"], len(order)), r["dataset"]),
    )
    status, as_of = con.execute("SELECT status, as_of FROM runs WHERE run_id = ?", [run_id]).fetchone()
    counted = ["files", "rows_loaded", "rows_quarantined", *(f"files_{s}" for s in SHOWN_FILE_STATUSES)]
    totals = {"dataset": None, **{k: sum(r[k] for r in rows) for k in counted}}

    def cells(r: dict, label: str) -> list[object]:
        shown = [r["files"], f"{r['rows_loaded']:,}", f"{r['rows_quarantined']:,}"]
        return [label, *shown, *(r[f"files_{s}"] for s in SHOWN_FILE_STATUSES)]

    body = [cells(r, f"{BY_NAME[r['dataset']].zh if r['dataset'] in BY_NAME else '未知'} {r['dataset']}") for r in rows]
    columns = [
        Column("数据集 dataset"),
        Column("文件 files", numeric=True),
        Column("载入行 rows loaded", numeric=True),
        Column("隔离行 quarantined", numeric=True),
        *(Column(status_label(FILE_STATUSES, s), numeric=True) for s in SHOWN_FILE_STATUSES),
    ]
    out: Lines = [
        f"fundwatch 运行 run {run_id}  数据日期 as of {as_of}  状态 status: {status_meaning(RUN_STATUSES, status)}",
        "",
        table(columns, [*body, cells(totals, "合计 total")]),
    ]
    out += rejected_summary(runs.rejected_files(con, run_id))
    withdrawals = con.execute(
        "SELECT file, outcome, coalesce(note, reason), rows_removed FROM withdrawals WHERE run_id = ? ORDER BY file",
        [run_id],
    ).fetchall()
    if withdrawals:
        out += ["", f"撤回请求 withdrawal requests ({len(withdrawals)}):"]
        out += [
            f"  - {file}: 已撤回 withdrawn, {rows:,} 行 rows out of force ({why})"
            if outcome == "withdrawn"
            else f"  - {file}: 未撤回 refused: {why}"
            for file, outcome, why, rows in withdrawals
        ]
    overlaps = recorded_overlaps(con, run_id)  # found at the end of the run's ingestion
    if overlaps:
        out += [
            "",
            f"注意 warning: 文件内容与在用文件大量重复 files repeating another file in force ({len(overlaps)}):",
        ]
        out += [
            f"  - {o['file']}: {o['rows_shared']:,}/{o['rows']:,} 行 rows ({o['share']:.0%}) also in {o['other_file']}"
            " — a renamed copy? `fundwatch withdraw` the one not meant to be in force"
            for o in overlaps
        ]
    out += resolved_summary(con, run_id)
    if totals["rows_quarantined"]:
        out += [
            "",
            "隔离行明细见表 quarantined rows are in table `quarantine`",
            "  (dataset, file, line, column, reason, raw)",
        ]
    return out


def resolved_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Lines:
    """The mistyped citizen IDs the run looked up in enrollment (CONTRACT.md section 6), per dataset in contract
    order: resolved (quarantined, and also loaded with the enrolled ID) and unresolved (only quarantined)."""
    order = {name: i for i, name in enumerate(BY_NAME)}
    found = sorted(
        con.execute(read_sql("runs/resolved_ids.sql"), {"run_id": run_id}).fetchall(),
        key=lambda r: (order.get(r[0], len(order)), r[0]),
    )
    if not found:
        return []
    out: Lines = [
        "",
        f"身份证号校验位错误的行按参保登记纠正 rows with a mistyped citizen ID looked up in enrollment "
        f"({sum(r[1] + r[2] + r[3] for r in found):,}; 视图 view `v_resolved_ids`):",
    ]
    for dataset, resolved, none, several in found:
        label = f"{BY_NAME[dataset].zh} {dataset}" if dataset in BY_NAME else dataset
        out.append(
            f"  - {label}: 已纠正 resolved {resolved:,}, 未纠正 unresolved {none + several:,} "
            f"(无匹配候选 no candidate {none:,}, 多个候选 several candidates {several:,})"
        )
    return out


def rejected_summary(rejected: list[runs.RejectedFile]) -> Lines:
    """The files rejected tonight for the first time (they make the exit status 1), then the rejected files
    left standing in the inbox since an earlier run reported them (listed every night until removed or
    corrected, without failing the night again)."""
    out: Lines = []
    new = [f for f in rejected if not f.standing]
    standing = [f for f in rejected if f.standing]
    if new:
        out += ["", f"拒收文件 rejected files ({len(new)}):"]
        out += [f"  - {f.file}: {f.reason}" for f in new]
    if standing:
        out += [
            "",
            f"仍在收件目录的拒收文件（已报告）rejected files still in the inbox, already reported ({len(standing)}):",
        ]
        first = "首次拒收 first rejected: 运行 run {}, 数据日期 as of {}"
        out += [f"  - {f.file}: {f.reason} ({first.format(f.first_run_id, f.first_as_of)})" for f in standing]
        out += ["  请更正文件或移出收件目录 correct the file or move it out of the inbox (it no longer fails the run)"]
    return out


def carried_summary(carried: runs.CarriedForward | None) -> Lines:
    """沿用: the run's findings are those an earlier run detected, and why (nothing detection reads changed)."""
    if carried is None:
        return []
    source = (
        f"运行 run {carried.from_run_id} (数据日期 as of {carried.from_as_of})"
        if carried.from_run_id
        else "上次运行 the last run"
    )
    per_rule = [f"{rule_label(r.code)} {carried.per_rule[r.code]:,}" for r in RULES if carried.per_rule.get(r.code)]
    datasets = [f"{BY_NAME[d].zh} {d}" if d in BY_NAME else d for d in carried.datasets]
    return [
        f"沿用 carried forward: 本次未重新计算，{carried.findings:,} 条疑点沿用自{source} — "
        f"{carried.findings:,} findings carried forward, not recomputed",
        "  原因 why: 规则输入未变 detection inputs unchanged (在用文件、数据日期、大额限额、规则代码均相同 "
        "same files in force, as-of date, large-payment threshold and rule code)",
        *_listed("规则 rules", per_rule, "、"),
        *_listed("数据集 datasets (在用文件均未变 no file in force changed)", datasets, ", "),
        "",
    ]


def _listed(title: str, items: list[str], sep: str, per_line: int = 4) -> list[str]:
    """'  title: a、b、c、d' then the rest `per_line` to a line, indented under the first."""
    if not items:
        return [f"  {title}: 无 none"]
    lines = [sep.join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return [f"  {title}: {lines[0]}", *(f"    {line}" for line in lines[1:])]


def findings_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Lines:
    """Findings of the run per rule, in registry order: count, new, amount at risk."""
    pairs = read_sql("reports/ledger_bank_pairs.sql").rstrip().removesuffix("ORDER BY l.pair_key")
    sql = read_sql("runs/findings_summary.sql").replace("/*ledger_bank_pairs*/", pairs)
    found = {r[0]: r for r in con.execute(sql, {"run_id": run_id}).fetchall()}
    cells = []
    total_n = total_new = paired = 0
    total_amount = Decimal("0")
    for rule in RULES:
        _, _, n, new, amount, twice = found.get(rule.code, (rule.code, rule.name_zh, 0, 0, Decimal("0"), 0))
        paired += twice
        total_n, total_new, total_amount = total_n + n, total_new + new, total_amount + amount
        cells.append([rule_label(rule.code), f"{n:,}", f"{new:,}", fmt_money(amount)])
    cells.append(["合计 total", f"{total_n:,}", f"{total_new:,}", fmt_money(total_amount)])
    columns = [
        Column("规则 rule"),
        Column("疑点 findings", numeric=True),
        Column("新增 new", numeric=True),
        Column("涉及金额（元） amount at risk (yuan)", numeric=True),
    ]
    carried = carried_summary(runs.carried_forward(con, run_id))
    note = (
        [
            f"※ 账实核对中 {paired} 对疑似同一笔（超窗配对）的账、银两条疑点只计一次金额 "
            f"{paired} near-miss ledger/bank pair(s): two findings each, the amount counted once"
        ]
        if paired
        else []
    )
    return [*carried, "疑点线索 findings of this run (表 table `suspects`):", "", table(columns, cells), *note]
