"""pandera schema of the one output shape of every rule (the suspects, before case state)."""

from __future__ import annotations

from decimal import Decimal

import pandera.polars as pa
import polars as pl

from pipelines.rules import BY_CODE
from pipelines.rules.common import SUSPECT_SCHEMA

_NOT_NULL = {"rule", "subject_id", "amount_at_risk", "summary", "evidence"}

SUSPECT_FINDINGS = pa.DataFrameSchema(
    {
        name: pa.Column(
            dtype,
            nullable=name not in _NOT_NULL,
            checks={
                "rule": [pa.Check.isin(sorted(BY_CODE))],
                "period_from": [pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$")],
                "period_to": [pa.Check.str_matches(r"^\d{4}(0[1-9]|1[0-2])$")],
                "region_code": [pa.Check.str_matches(r"^\d{6}$")],
                "person_id": [pa.Check.str_matches(r"^\d{17}[\dX]$")],
                "amount_at_risk": [pa.Check.ge(Decimal("0"))],
                "evidence": [pa.Check.str_startswith("[")],
            }.get(name, []),
        )
        for name, dtype in SUSPECT_SCHEMA.items()
    },
    unique=["rule", "subject_id"],
    strict=True,
    ordered=True,
    name="suspect_findings",
)


def validate_findings(frame: pl.DataFrame) -> pl.DataFrame:
    """Raise if a rule's output leaves the suspects shape; a rule bug must never publish quietly."""
    return SUSPECT_FINDINGS.validate(frame)
