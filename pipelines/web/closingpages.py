"""The 结案报告 block of a case page (要情结案报告, policy §六, issue 16): whether the case's closing report is made
(已出具 v1, when, by whom) or due (未出具), and the chief's form to make it — which calls the function the command
line calls (`pipelines.cases.closing.make`). Nothing here renders HTML (case.html does) or decides a right: the
register refuses what a role may not do.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.cases import closing
from pipelines.cases import register as reg
from pipelines.cases import staff as staff_register
from pipelines.cases.reports.common import SEVERITIES
from pipelines.warehouse.session import WarehouseBusy, reader
from pipelines.web.config import WebConfig


@dataclass(frozen=True)
class ClosingBlock:
    text: str  # 结案报告：未出具 / 已出具 v1（时间，人） / 不适用
    due: bool
    may_make: bool  # a chief, on a closed 要情 (a first report when due, a corrected version after)
    reports: tuple[Mapping[str, Any], ...]  # every report of the case, oldest first


def block(con: sqlite3.Connection, case: Mapping[str, Any], member: staff_register.Staff) -> ClosingBlock | None:
    """The block for this case, or None for a case that is not a 要情 and never had a closing report."""
    state = closing.status(con, str(case["suspect_id"]))
    if case["severity"] not in SEVERITIES and not state.earlier:
        return None
    return ClosingBlock(
        text=state.text(),
        due=state.due,
        may_make=member.role == "chief" and state.applies,
        reports=state.earlier,
    )


def make(config: WebConfig, staff_id: str, suspect_id: str, form: Mapping[str, str]) -> closing.MadeReport:
    """Make the closing report from the form (measures, responsibility, facts), into `closing_reports/` beside the
    register; the evidence read from the published file when it can be (else the facts say it was not)."""
    texts = (form.get("measures") or "", form.get("responsibility") or "", (form.get("facts") or "").strip() or None)
    today = config.today()
    with reg.writer(config.register, create=False) as con:
        try:
            with reader(config.db, memory_limit=config.memory_limit) as duck:
                return closing.make(con, duck, staff_id, suspect_id, *texts, today=today)
        except (WarehouseBusy, duckdb.Error, FileNotFoundError):
            return closing.make(con, None, staff_id, suspect_id, *texts, today=today)
