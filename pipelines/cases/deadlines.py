"""Provisional deadlines (暂定期限) become final when the year's holiday arrangement arrives.

A deadline counted over a year the calendar knows only from the statutory holidays is stored with
`due_provisional = 1` / `report_due_provisional = 1` (`pipelines.cases.calendar`). Each nightly run
recomputes those cases over the calendar as it is then (`recompute_provisional`, called by
`nightly.sync_run`): once `chinesecalendar` covers the year or the office adds
`schemas/holidays/<year>.yaml`, the date may move (a 调休 make-up working day, a longer holiday) and
the flag drops. Every change is one `deadline_recomputed` event with the old and new values; a case
whose deadline and flag stay the same is left untouched, so a second recompute changes nothing.
Closed cases are recomputed too: whether a rectification or report was on time depends on the date.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from pipelines.cases import calendar
from pipelines.cases import register as reg

RECOMPUTED = "deadline_recomputed"

# (flag column, date column, start column, deadline function, what it is in Chinese)
_DEADLINES = (
    ("due_provisional", "due_date", "assigned_on", calendar.rectification_due, "整改期限"),
    ("report_due_provisional", "report_due", "confirmed_on", calendar.report_due, "要情报送期限"),
)


def recompute_provisional(con: sqlite3.Connection, actor: str) -> int:
    """Recompute every provisional deadline; the number of cases whose deadline or flag changed."""
    calendar.CALENDAR.refresh()  # the office may have added a year's file since this process looked
    changed = 0
    with reg.write_transaction(con):
        rows = con.execute(
            "SELECT suspect_id, status, assigned_on, due_date, due_provisional,"
            " confirmed_on, report_due, report_due_provisional FROM cases"
            " WHERE due_provisional = 1 OR report_due_provisional = 1 ORDER BY suspect_id"
        ).fetchall()
        for case in rows:
            updates: dict[str, object] = {}
            details: dict[str, object] = {}
            notes: list[str] = []
            for flag, column, start, due, name in _DEADLINES:
                if not case[flag] or not case[start]:
                    continue
                new = due(dt.date.fromisoformat(case[start]))
                old_date, old_flag = case[column], int(case[flag])
                if new.isoformat() == old_date and int(new.provisional) == old_flag:
                    continue
                updates[column], updates[flag] = new.isoformat(), int(new.provisional)
                details[column] = {"old": old_date, "new": new.isoformat()}
                details[flag] = {"old": old_flag, "new": int(new.provisional)}
                details[f"{column}_sources"] = list(new.sources)
                notes.append(f"{name} {calendar.due_text(old_date, old_flag)} → {new.text}")
            if not updates:
                continue
            reason = "；".join(notes) + "（节假日安排更新后重算 recomputed on the holiday arrangement now known）"
            reg._record(con, case, actor, RECOMPUTED, updates, reason, details)
            changed += 1
    return changed
