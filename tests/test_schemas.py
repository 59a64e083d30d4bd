"""One test per dataset schema: the contract's required columns, code sets and value checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.ingest.batch import normalise, row_problems
from pipelines.ingest.normalize import clean_frame
from pipelines.synth.constants import BIRTH_COUNTIES, PROVINCE_CODE, REGION_CODES
from schemas.datasets import BY_NAME, DATASETS, WINDOWS
from schemas.divisions import division_codes, division_names, divisions
from schemas.validation import DateWindow, failures

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
    "custody_records": {"person_id", "sentence_type", "start_date"},
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


def gb11643(first17: str) -> str:
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


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
        ("enrollment", "birth_date", "1896-11-26", False),  # more than 130 years before the data date
        ("enrollment", "end_date", "2030-12-31", True),  # a spell may be set to end in the future
        ("business_log", "operated_at", "1899-01-01 10:00:00", False),
    ],
)
def test_plausible_dates(dataset, column, value, ok):
    assert (problems(dataset, [valid_row(dataset) | {column: value}]).height == 0) is ok


# As of 2026-11-27, with the default window (80 years back, 1 ahead): each kind of window at its edges.
@pytest.mark.parametrize(
    ("dataset", "column", "value", "ok"),
    [
        # events: [as_of - 80 years, as_of + 1 year]
        ("benefit_payments", "pay_date", "2099-01-01", False),
        ("benefit_payments", "pay_date", "2027-11-27", True),
        ("benefit_payments", "pay_date", "2027-11-28", False),
        ("benefit_payments", "pay_date", "1946-11-27", True),
        ("benefit_payments", "pay_date", "1946-11-26", False),
        ("enrollment", "start_date", "1962-03-01", True),  # a pensioner's first enrollment (the generator's oldest)
        ("medical_claims", "service_date", "1900-01-01", False),
        ("business_log", "operated_at", "2027-11-27 23:59:59", True),
        ("business_log", "operated_at", "2027-11-28 00:00:00", False),
        ("business_log", "operated_at", "1946-11-26 23:59:59", False),
        # periods, the same window by month
        ("benefit_payments", "period", "209901", False),
        ("benefit_payments", "period", "189901", False),
        ("contributions", "period", "202711", True),
        ("contributions", "period", "202712", False),
        ("tax_collections", "period", "194611", True),
        ("payroll_withholding", "period", "194610", False),
        # births: [as_of - 130 years, as_of]
        ("enrollment", "birth_date", "1896-11-27", True),
        ("enrollment", "birth_date", "2026-11-27", True),
        ("enrollment", "birth_date", "2026-11-28", False),
        # deaths: never after the data date, at most 80 years before it
        ("death_records", "death_date", "1946-11-26", False),
        # the end of a term: up to 30 years ahead
        ("enrollment", "end_date", "2056-11-27", True),
        ("enrollment", "end_date", "2056-11-28", False),
        ("enrollment", "end_date", "2099-12-31", False),  # no sentinel for "open": the contract says empty
        ("fund_accounts", "closed_date", "2056-11-28", False),
        ("fund_accounts", "opened_date", "2027-11-28", False),
    ],
)
def test_every_date_and_period_lies_in_its_window(dataset, column, value, ok):
    found = problems(dataset, [valid_row(dataset) | {column: value}])
    assert (found.height == 0) is ok, found.to_dicts()
    if not ok:
        assert found["column"].to_list() == [column]
        assert "implausible" in found["reason"][0] and "expected between" in found["reason"][0]


def test_the_reason_names_the_window():
    found = problems("benefit_payments", [valid_row("benefit_payments") | {"period": "209901"}])
    assert found["reason"][0] == "period: 所属期不合理 implausible period, expected between 194611 and 202711: '209901'"
    found = problems("business_log", [valid_row("business_log") | {"operated_at": "2099-01-01 10:00:00"}])
    reason = found["reason"][0]
    assert reason.startswith(
        "operated_at: 时间不合理 implausible timestamp, expected between 1946-11-27 and 2027-11-27:"
    )
    assert ":" not in reason.split(": ")[1]  # the view v_quarantine_reasons ends a reason's phrase at ':'


def test_the_window_follows_the_run_settings():
    row = valid_row("benefit_payments") | {"pay_date": "2028-06-01", "period": "199001"}
    spec = BY_NAME["benefit_payments"]
    text = pl.DataFrame([row], schema={c.name: pl.String for c in spec.columns})
    values, _ = normalise(clean_frame(text), {c.name: c.name for c in spec.columns}, spec)
    assert failures("benefit_payments", DateWindow(AS_OF, 80, 2), values).height == 0
    narrow = failures("benefit_payments", DateWindow(AS_OF, 30, 1), values)
    assert sorted(narrow["column"].to_list()) == ["pay_date", "period"]


def test_window_bounds_of_each_kind():
    window = DateWindow(dt.date(2028, 2, 29), 80, 1)
    assert window.bounds("event") == (dt.date(1948, 2, 29), dt.date(2029, 2, 28))
    assert window.bounds("past") == (dt.date(1948, 2, 29), dt.date(2028, 2, 29))
    assert window.bounds("birth") == (dt.date(1898, 2, 28), dt.date(2028, 2, 29))
    assert window.bounds("term") == (dt.date(1948, 2, 29), dt.date(2058, 2, 28))


def test_every_date_column_has_a_known_window():
    for d in DATASETS:
        for c in d.columns:
            assert c.window in WINDOWS, (d.name, c.name)
    assert BY_NAME["enrollment"].column("birth_date").window == "birth"
    assert BY_NAME["death_records"].column("death_date").window == "past"
    assert BY_NAME["enrollment"].column("end_date").window == "term"


@pytest.mark.parametrize(
    ("person_id", "ok"),
    [
        (gb11643("11010520261127001"), True),  # born on the data date
        (gb11643("33010220261128001"), False),  # born after it (a valid check digit)
        (gb11643("33010220800101001"), False),
        (gb11643("33010218961127001"), True),  # 130 years before
        (gb11643("33010218961126001"), False),
    ],
)
def test_an_id_born_after_the_data_date_or_too_long_ago_is_quarantined(person_id, ok):
    for dataset in ("death_records", "benefit_payments", "business_log"):
        found = problems(dataset, [valid_row(dataset) | {"person_id": person_id}])
        assert (found.height == 0) is ok, found.to_dicts()
        if not ok:
            assert found["column"].to_list() == ["person_id"]
            assert "身份证号出生日期不合理 implausible citizen ID, birth date not between" in found["reason"][0]


def test_an_id_born_after_the_data_date_also_in_its_15_digit_form():
    # 15 digits are born 19xx: only the lower edge can be crossed (as of 2026, before 1896-11-27 is impossible)
    found = problems("death_records", [valid_row("death_records") | {"person_id": "330102000101001"}])
    assert found.height == 0  # 1900-01-01: 126 years before
    late = DateWindow(dt.date(2031, 1, 1))
    spec = BY_NAME["death_records"]
    text = pl.DataFrame([valid_row("death_records") | {"person_id": "330102000101001"}])
    values, _ = normalise(clean_frame(text), {c.name: c.name for c in spec.columns}, spec)
    assert failures("death_records", late, values)["column"].to_list() == ["person_id"]


# --- the GB/T 2260 table (schemas/gbt2260.csv) ----------------------------------------------------------


def test_the_division_table_holds_every_code_we_rely_on():
    codes = division_codes()
    for code in ("330103", "330104", "330113", "330114", "330000", "110105"):
        assert code in codes, code
    assert set(REGION_CODES) <= codes and PROVINCE_CODE in codes
    assert {c for counties in BIRTH_COUNTIES.values() for c in counties} <= codes
    assert len(codes) > 7000


def test_the_division_table_names_regions_by_their_latest_name():
    names = division_names()
    assert names["330103"] == "下城区"  # abolished in 2021: its last name
    assert names["330113"] == "临平区"
    assert names["330100"] == "杭州市"
    assert names["130123"] == "正定县"  # 栾城县 until 1992, 正定县 since 1993


def test_the_division_table_is_well_formed():
    rows = divisions()
    assert len({(d.code, d.name) for d in rows}) == len(rows)
    for d in rows:
        assert len(d.code) == 6 and d.code.isdigit() and d.name, d
        assert 1980 <= d.first_year <= (d.last_year or 2025) <= 2025, d
    merged = {d.code: d for d in rows if d.code in ("330103", "330104", "330113")}
    assert merged["330103"].last_year == merged["330104"].last_year == 2021
    assert merged["330113"].first_year == 2021 and merged["330113"].last_year is None


def test_several_failures_in_one_row_are_one_quarantine_row_naming_the_first_column():
    row = valid_row("benefit_payments") | {"person_id": "bad", "amount": "-1", "period": "2024-13"}
    found = problems("benefit_payments", [row, valid_row("benefit_payments")])
    assert found.height == 1 and found["index"][0] == 0
    assert found["column"][0] == "person_id"
    reason = found["reason"][0]
    assert "person_id:" in reason and "amount:" in reason and "period:" in reason


# ---- the one-pass verdict (`all_pass`) and pandera agree ------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"


def _normalised_sample(dataset: str) -> pl.DataFrame:
    """The sample's first file of `dataset`, read and normalised as ingest does (the dirty sample: rows that fail)."""
    from pipelines.ingest.batch import map_headers, stringify
    from pipelines.ingest.readers import open_file

    path = sorted((SAMPLES / dataset).glob("*.csv"))[0]
    _, batches = open_file(path)
    frames = []
    for raw in batches:
        mapping = map_headers(raw.frame.columns, BY_NAME[dataset])
        values, _ = normalise(clean_frame(stringify(raw.frame, mapping, BY_NAME[dataset])), mapping, BY_NAME[dataset])
        frames.append(values)
    return pl.concat(frames)


def _pandera_passes(dataset: str, window: DateWindow, frame: pl.DataFrame) -> bool:
    import pandera.polars as pa

    from schemas.validation import dataset_schema

    try:
        dataset_schema(dataset, window).validate(frame, lazy=True)
    except pa.errors.SchemaErrors:
        return False
    return True


@pytest.mark.parametrize("dataset", [d.name for d in DATASETS if (SAMPLES / d.name).is_dir()])
def test_the_one_pass_verdict_is_pandera_s(dataset):
    from schemas.validation import all_pass, dataset_schema

    window = DateWindow(dt.date(2026, 11, 27))
    schema = dataset_schema(dataset, window)
    frame = _normalised_sample(dataset)
    # every row alone (the failing ones, and as many passing), and the file as a whole
    rows = [frame.slice(i, 1) for i in range(min(frame.height, 30))]
    # and each column of a row made wrong as its kind can be: missing, out of its window, not a code, negative
    base = frame.head(1)
    for column in BY_NAME[dataset].columns:
        dtype = frame.schema[column.name]
        rows.append(base.with_columns(pl.lit(None, dtype=dtype).alias(column.name)))
        bad = {
            "date": pl.lit(dt.date(1800, 1, 1)),
            "timestamp": pl.lit(dt.datetime(1800, 1, 1)),
            "period": pl.lit("180001"),
            "code": pl.lit("ZZZ"),
            "region": pl.lit("12345"),
            "id": pl.lit("110101180001011230"),
            "money": pl.lit(-1).cast(dtype),
            "integer": pl.lit(-1).cast(dtype),
        }.get(column.kind)
        if bad is not None:
            rows.append(base.with_columns(bad.cast(dtype).alias(column.name)))
    verdicts = [_pandera_passes(dataset, window, row) for row in rows]
    assert any(verdicts) and not all(verdicts), "rows of both kinds"
    for row, expected in zip(rows, verdicts, strict=True):
        assert all_pass(schema, row) == expected, (dataset, row.row(0, named=True))
    assert all_pass(schema, frame) == _pandera_passes(dataset, window, frame)
    # a required value missing, a value out of its window: never passed by the one-pass verdict
    required = next(c.name for c in BY_NAME[dataset].columns if c.required)
    assert not all_pass(schema, frame.head(1).with_columns(pl.lit(None, dtype=frame.schema[required]).alias(required)))
