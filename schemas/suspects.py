"""The one output shape of every rule (the suspects, before case state), and its pandera schema.

`SUSPECT_SCHEMA` is the column list every rule's `detect()` returns (built with
`pipelines.rules.common.finding`); the `suspects` table (sql/ddl/004_suspects.sql) adds the case
state and, in `evidence`, the sentence followed by the rows (CONTRACT.md section 3).

Names, each with one meaning everywhere: `summary` is the one Chinese sentence an analyst reads
first; `evidence_rows` is the JSON array of the rows that prove the finding; `evidence` (only in
`suspects`) is the two together, "<summary> 依据 evidence: <evidence_rows>".
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import cache

import polars as pl

MONEY = pl.Decimal(18, 2)

# One row per finding, keyed by (rule, subject_id).
SUSPECT_SCHEMA: dict[str, pl.DataType] = {
    "rule": pl.String(),
    "subject_id": pl.String(),
    "person_id": pl.String(),  # canonical citizen ID where the finding concerns a person
    "region_code": pl.String(),  # the pooling region that must verify it (下查一级)
    "period_from": pl.String(),  # YYYYMM
    "period_to": pl.String(),  # YYYYMM
    "amount_at_risk": MONEY,
    "summary": pl.String(),  # one sentence in Chinese an analyst reads first
    "evidence_rows": pl.String(),  # JSON array of the rows that prove it (ids, dates, amounts)
}

_NOT_NULL = {"rule", "subject_id", "amount_at_risk", "summary", "evidence_rows"}


@cache
def findings_schema(rule_codes: tuple[str, ...]):
    """The pandera schema of findings made by the rules `rule_codes` (sorted, unique).

    pandera is imported here, not with the module: every rule imports the suspects shape, and a command
    that only lists cases should not pay a fifth of a second for a validator it never runs.
    """
    import pandera.polars as pa

    checks: dict[str, list[pa.Check]] = {
        "rule": [pa.Check.isin(list(rule_codes))],
        "period_from": [pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$")],
        "period_to": [pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$")],
        "region_code": [pa.Check.str_matches(r"^\d{6}$")],
        "person_id": [pa.Check.str_matches(r"^\d{17}[\dX]$")],
        "amount_at_risk": [pa.Check.ge(Decimal("0"))],
        "evidence_rows": [pa.Check.str_startswith("[")],
    }
    return pa.DataFrameSchema(
        {
            name: pa.Column(dtype, nullable=name not in _NOT_NULL, checks=checks.get(name, []))
            for name, dtype in SUSPECT_SCHEMA.items()
        },
        unique=["rule", "subject_id"],
        strict=True,
        ordered=True,
        name="suspect_findings",
    )


def validate_findings(frame: pl.DataFrame, rule_codes: Iterable[str]) -> pl.DataFrame:
    """Raise if findings leave the suspects shape or name a rule other than `rule_codes`.

    A rule bug must never reach `suspects` quietly. The caller says which rules made `frame` (the engine:
    the one rule it ran), so this module needs no rule registry.
    """
    return findings_schema(tuple(sorted(set(rule_codes)))).validate(frame)


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=SUSPECT_SCHEMA)
