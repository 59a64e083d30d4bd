"""The run summary counts a near-miss ledger/bank pair once in its amounts, as the reports do (issue 12, item 5)."""

from __future__ import annotations

from pipelines.app import console
from pipelines.app.summary import findings_summary
from pipelines.warehouse.session import connect
from tests.cases.report_world import ledger_bank_evidence

RUN = "R1"


def suspect(con, sid, rule, subject, amount, evidence="[]", run=RUN, active=True):
    con.execute(
        "INSERT INTO suspects (suspect_id, rule, rule_name_zh, subject_id, region_code, amount_at_risk, summary,"
        " evidence_rows, first_seen, last_seen, active, status, first_run_id, last_run_id)"
        " VALUES (?, ?, '规则', ?, '330000', ?, '—', ?, DATE '2026-11-27', DATE '2026-11-27', ?, 'open', ?, ?)",
        [sid, rule, subject, amount, evidence, active, run, run],
    )


def summary_text(tmp_path, paired_bank_active: bool = True) -> str:
    con = connect(tmp_path / "fw.duckdb")
    try:
        pair = "ledger:L1|bank:B1"
        suspect(
            con,
            "S1",
            "RECON_LEDGER_BANK",
            "ledger:L1",
            "300100.91",
            ledger_bank_evidence("ledger", "L1", "300100.91", pair, "bank:B1"),
        )
        suspect(
            con,
            "S2",
            "RECON_LEDGER_BANK",
            "bank:B1",
            "300100.91",
            ledger_bank_evidence("bank", "B1", "300100.91", pair, "ledger:L1"),
            active=paired_bank_active,
        )
        suspect(
            con,
            "S3",
            "RECON_LEDGER_BANK",
            "ledger:L9",
            "100.00",
            ledger_bank_evidence("ledger", "L9", "100.00", None, None),
        )
        suspect(con, "S4", "DECEASED_PAID", "330102198001011234", "15514.47")
        return console.text(findings_summary(con, RUN))
    finally:
        con.close()


def rule_line(text: str, code: str) -> str:
    return next(line for line in text.splitlines() if code in line)


def test_a_near_miss_pair_is_counted_once(tmp_path):
    text = summary_text(tmp_path)
    assert rule_line(text, "RECON_LEDGER_BANK").split()[-3:] == ["3", "3", "300,200.91"]
    assert rule_line(text, "合计 total").split()[-1] == "315,715.38"
    assert "1 对疑似同一笔" in text


def test_a_pair_whose_other_side_no_longer_fires_counts_in_full(tmp_path):
    text = summary_text(tmp_path, paired_bank_active=False)
    assert rule_line(text, "RECON_LEDGER_BANK").split()[-3:] == ["2", "2", "300,200.91"]
    assert "疑似同一笔" not in text
