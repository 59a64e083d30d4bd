"""One test per dataset schema: the contract's required columns, code sets and value checks."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from pipelines.ingest.batch import normalise, row_problems
from pipelines.ingest.normalize import clean_frame
from schemas.datasets import BY_NAME, DATASETS
from schemas.validation import failures

# Written out from CONTRACT.md section 2 (the starred columns), independently of schemas/datasets.py.
CONTRACT_REQUIRED = {
    "enrollment": {"enrollment_id", "person_id", "name", "region_code", "scheme", "start_date"},
    "contributions": {"employer_id", "scheme", "period", "amount_due"},
    "benefit_payments": {
        "payment_id",
        "person_id",
        "region_code",
        "scheme",
        "benefit_type",
        "period",
        "amount",
        "bank_account",
    },
    "medical_claims": {
        "claim_id",
        "person_id",
        "region_code",
        "hospital_id",
        "invoice_no",
        "service_date",
        "total_amount",
        "fund_paid",
    },
    "business_log": {"business_id", "stage", "operator_id", "operated_at"},
    "operators": {"operator_id", "role"},
    "tax_collections": {"voucher_no", "employer_id", "scheme", "period", "amount_collected"},
    "payroll_withholding": {"employer_id", "person_id", "period", "wage_income"},
    "fund_accounts": {"account_no", "account_type"},
    "finance_ledger": {"entry_id", "account_no", "entry_date", "direction", "amount"},
    "bank_statements": {"txn_id", "account_no", "txn_date", "direction", "amount"},
    "bank_disbursements": {"payment_id", "bank_account", "amount", "status"},
    "death_records": {"person_id", "death_date", "source"},
}
# Columns the contract marks "> 0".
CONTRACT_POSITIVE = {("benefit_payments", "amount"), ("finance_ledger", "amount"), ("bank_statements", "amount")}

SAMPLE_BY_KIND = {
    "id": "11010519491231002X",
    "key": "K-001",
    "text": "文本",
    "region": "330100",
    "date": "2024-03-05",
    "timestamp": "2024-03-05 10:00:00",
    "period": "202403",
    "money": "1,234.50",
    "integer": "12",
}
AS_OF = dt.date(2026, 11, 27)


def valid_row(dataset: str) -> dict[str, str]:
    from schemas.datasets import code_sets

    row = {}
    for c in BY_NAME[dataset].columns:
        row[c.name] = next(iter(code_sets()[c.codes])) if c.kind == "code" else SAMPLE_BY_KIND[c.kind]
    return row


def problems(dataset: str, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    spec = BY_NAME[dataset]
    text = pl.DataFrame(rows, schema={c.name: pl.String for c in spec.columns})
    mapping = {c.name: c.name for c in spec.columns}
    values, reasons = normalise(clean_frame(text), mapping, spec)
    return row_problems(reasons, failures(dataset, AS_OF, values), spec)


def test_contract_required_columns_match_the_spec():
    assert {d.name for d in DATASETS} == set(CONTRACT_REQUIRED)
    for d in DATASETS:
        assert set(d.required) == CONTRACT_REQUIRED[d.name], d.name


@pytest.mark.parametrize("dataset", sorted(CONTRACT_REQUIRED))
def test_schema_accepts_a_valid_row_and_refuses_each_missing_required_value(dataset):
    assert problems(dataset, [valid_row(dataset)]).height == 0
    for column in sorted(CONTRACT_REQUIRED[dataset]):
        row = valid_row(dataset) | {column: "  "}
        found = problems(dataset, [row])
        assert found.height == 1, column
        assert found["column"][0] == column
        assert "missing required value" in found["reason"][0]
    optional = [c.name for c in BY_NAME[dataset].columns if not c.required]
    assert problems(dataset, [valid_row(dataset) | dict.fromkeys(optional)]).height == 0


@pytest.mark.parametrize("dataset", sorted(CONTRACT_REQUIRED))
def test_schema_refuses_unknown_codes_and_bad_ids(dataset):
    for c in BY_NAME[dataset].columns:
        if c.kind == "code":
            found = problems(dataset, [valid_row(dataset) | {c.name: "bogus-code"}])
            assert found["column"].to_list() == [c.name] and "unknown code" in found["reason"][0]
        if c.kind == "id":
            found = problems(dataset, [valid_row(dataset) | {c.name: "110105194912310021"}])
            assert found["column"].to_list() == [c.name] and "check digit" in found["reason"][0]
        if c.kind == "region":
            found = problems(dataset, [valid_row(dataset) | {c.name: "33010"}])
            assert found["column"].to_list() == [c.name]


@pytest.mark.parametrize(("dataset", "column"), sorted(CONTRACT_POSITIVE))
def test_amounts_must_be_positive_where_the_contract_says_so(dataset, column):
    assert problems(dataset, [valid_row(dataset) | {column: "0.01"}]).height == 0
    for bad in ("0", "-5.00", "-0.01"):
        found = problems(dataset, [valid_row(dataset) | {column: bad}])
        assert found["column"].to_list() == [column] and "> 0" in found["reason"][0]


def test_negative_amount_allowed_where_the_contract_does_not_forbid_it():
    # contributions.amount_due has no "> 0": a negative assessment is a refund adjustment.
    assert problems("contributions", [valid_row("contributions") | {"amount_due": "-10.00"}]).height == 0


@pytest.mark.parametrize(
    ("dataset", "column", "value", "ok"),
    [
        ("death_records", "death_date", "2026-11-27", True),
        ("death_records", "death_date", "2026-11-28", False),  # a death after the data date is implausible
        ("enrollment", "birth_date", "1899-12-31", False),
        ("enrollment", "end_date", "2030-12-31", True),  # a spell may be set to end in the future
        ("business_log", "operated_at", "1899-01-01 10:00:00", False),
    ],
)
def test_plausible_dates(dataset, column, value, ok):
    assert (problems(dataset, [valid_row(dataset) | {column: value}]).height == 0) is ok


def test_several_failures_in_one_row_are_one_quarantine_row_naming_the_first_column():
    row = valid_row("benefit_payments") | {"person_id": "bad", "amount": "-1", "period": "2024-13"}
    found = problems("benefit_payments", [row, valid_row("benefit_payments")])
    assert found.height == 1 and found["index"][0] == 0
    assert found["column"][0] == "person_id"
    reason = found["reason"][0]
    assert "person_id:" in reason and "amount:" in reason and "period:" in reason
