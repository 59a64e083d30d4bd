"""Tests of the payment batch the synthetic generator writes (`fundwatch synth --batch`, pipelines.synth.batch).

A second engine — DuckDB SQL over the clean inbox's CSV files, the batch and `_truth/blacklist.csv` — computes
every line's reasons (CONTRACT section 7) and must agree with `_truth/batch.csv`; every reason is planted at least
twice and every near miss at least once, each standing on the fact it is about; the facts the batch adds change no
nightly finding (the fifteen-rule oracle of tests/test_synth.py still finds exactly `findings.csv`); the dirty batch
reads back to its truth; the inbox is byte for byte the same with or without a batch; the batch is deterministic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import unicodedata
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
import yaml

from pipelines.app.cli import build_parser
from pipelines.app.settings import Settings
from pipelines.synth import generate
from pipelines.synth.constants import DATASETS
from pipelines.synth.ids import check_digit
from tests.test_synth import fen, oracle

PERSONS = 2500
SEED = 5
BATCH = "_batch/payment_batch.csv"
REASONS = (
    "INVALID",
    "DECEASED",
    "IN_CUSTODY",
    "ALREADY_PAID",
    "EMPLOYED",
    "PENSIONER",
    "SHARED_ACCOUNT",
    "BLACKLISTED",
    "UNKNOWN_PERSON",
)
NEAR_MISSES = (
    "near_funeral_after_death",
    "near_survivor_after_death",
    "near_month_of_death",
    "near_custody_start_month",
    "near_release_month",
    "near_suspended_sentence",
    "near_surveillance",
    "near_month_after_job_ended",
    "near_unemployment_adjacent_pension",
    "near_two_persons_one_account",
    "near_account_across_periods",
    "near_other_type_paid_month",
    "near_first_of_repeated_lines",
    "near_blacklisted_employer",
    "near_id_15_digit",
    "near_id_lowercase_x",
)
ADDED = (
    "death_records/dr_batchfacts.csv",
    "custody_records/cr_batchfacts.csv",
    "payroll_withholding/pw_batchfacts.csv",
)
STOPPING = ("detention", "imprisonment", "life", "death_suspended")
CODES = Path(__file__).resolve().parents[1] / "schemas" / "codes.yaml"


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plain")
    generate(PERSONS, out, seed=SEED)
    return out


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    generate(PERSONS, out, seed=SEED, batch=True)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(PERSONS, out, seed=SEED, dirty=False, batch=True)
    return out


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def truth(root: Path, name: str = "batch") -> pl.DataFrame:
    frame = pl.read_csv(root / "_truth" / f"{name}.csv", infer_schema=False)
    return frame.with_columns(pl.col("line").cast(pl.Int64)) if "line" in frame.columns else frame


def codes_of(reasons: str | None) -> list[str]:
    return reasons.split(";") if reasons else []


# ---- the inbox unchanged, determinism ---------------------------------------------------------------------------


def test_without_batch_the_inbox_is_byte_for_byte_the_same(plain: Path, dirty: Path) -> None:
    before, after = hashes(plain), hashes(dirty)
    changed = {f for f in before if before[f] != after.get(f)}
    assert changed == {"_truth/valid_rows.csv", "_truth/summary.json"}
    added = set(after) - set(before)
    assert added == {BATCH, "_truth/batch.csv", "_truth/blacklist.csv", *ADDED}
    # valid_rows lists the added fact files too, nothing else changes in it
    rows_before, rows_after = truth(plain, "valid_rows"), truth(dirty, "valid_rows")
    assert rows_after.head(rows_before.height).equals(rows_before)
    assert sorted(rows_after.tail(3)["file"]) == sorted(ADDED)
    for path in ADDED:
        written = pl.read_csv(dirty / path, infer_schema=False).height
        listed = rows_after.filter(pl.col("file") == path)
        assert listed["rows_valid"].cast(pl.Int64).to_list() == [written] and written > 0
    summary = json.loads((dirty / "_truth" / "summary.json").read_text(encoding="utf-8"))
    assert summary["batch"]["period"] == 202601
    assert summary["batch"]["lines"] == truth(dirty).height


def test_the_batch_is_deterministic_by_seed(tmp_path: Path) -> None:
    runs = []
    for seed in (SEED, SEED, SEED + 1):
        generate(800, tmp_path / str(len(runs)), seed=seed, batch=True)
        runs.append(hashes(tmp_path / str(len(runs))))
    assert runs[0] == runs[1]
    assert runs[2][BATCH] != runs[0][BATCH] and runs[2]["_truth/batch.csv"] != runs[0]["_truth/batch.csv"]


def test_the_command_takes_batch(tmp_path: Path) -> None:
    settings = Settings.from_env()
    args = build_parser(settings).parse_args(["synth", "--persons", "500", "--out", str(tmp_path), "--batch"])
    assert args.handler(args, settings) == 0
    assert (tmp_path / BATCH).is_file() and (tmp_path / "_truth" / "batch.csv").is_file()
    args = build_parser(settings).parse_args(["synth", "--persons", "500", "--out", str(tmp_path)])
    assert args.handler(args, settings) == 0
    assert not (tmp_path / "_batch").exists()  # a new generation removes the old batch
    assert not (tmp_path / ADDED[0]).exists()


# ---- what is planted --------------------------------------------------------------------------------------------


def test_every_reason_twice_every_near_miss_once(dirty: Path) -> None:
    t = truth(dirty)
    assert t["line"].to_list() == list(range(2, t.height + 2))
    per_code = {code: sum(code in codes_of(r) for r in t["reasons"]) for code in REASONS}
    assert all(n >= 2 for n in per_code.values()), per_code
    for row in t.iter_rows(named=True):
        codes = codes_of(row["reasons"])
        assert codes == sorted(codes, key=REASONS.index) and len(set(codes)) == len(codes)  # the contract's order
        assert (row["verdict"] == "hold") == bool(codes)
        if row["plant"].startswith("near_") or row["plant"] in ("ordinary", "with_pension_in_batch"):
            assert row["verdict"] == "pass", row
        else:
            assert row["verdict"] == "hold", row
    planted = set(t["plant"])
    assert set(NEAR_MISSES) <= planted
    several = t.filter(pl.col("reasons").str.contains(";"))
    assert several.height >= 5
    assert {"DECEASED;IN_CUSTODY", "EMPLOYED;PENSIONER", "DECEASED;ALREADY_PAID"} <= set(several["reasons"])
    assert t.filter(pl.col("plant") == "ordinary").height > t.height / 2
    # a row that cannot be made valid carries INVALID alone, two of each kind
    invalid = t.filter(pl.col("reasons").str.contains("INVALID"))
    assert set(invalid["reasons"]) == {"INVALID"}
    assert invalid.group_by("plant").len().sort("plant").rows() == [
        ("invalid_check_digit", 2),
        ("invalid_missing_payment_id", 2),
        ("invalid_negative_amount", 2),
        ("invalid_period", 2),
    ]
    blacklist = pl.read_csv(dirty / "_truth" / "blacklist.csv", infer_schema=False)
    assert blacklist.columns == ["kind", "key", "reason"]
    assert set(blacklist["kind"]) == {"person", "account", "employer"}


def test_amounts_are_exact_yuan(dirty: Path) -> None:
    for amount in truth(dirty)["amount"]:
        assert Decimal(amount).as_tuple().exponent == -2, amount


# ---- a second engine: section 7 in DuckDB SQL over the clean inbox ----------------------------------------------


def valid_id(pid: str) -> bool:
    return len(pid) == 18 and pid[:17].isdigit() and check_digit(pid[:17]) == pid[17]


def batch_lines(root: Path) -> pl.DataFrame:
    """The clean batch, each line typed and marked valid or not (what section 1 lets through)."""
    raw = pl.read_csv(root / BATCH, infer_schema=False).with_row_index("line", offset=2)
    return raw.with_columns(
        pl.col("line").cast(pl.Int64),
        pl.col("period").str.to_integer(strict=False).alias("p"),
        pl.col("amount").str.to_decimal(scale=2).alias("amt"),
    ).with_columns(
        (
            pl.col("payment_id").is_not_null()
            & pl.col("person_id").map_elements(valid_id, return_dtype=pl.Boolean)
            & pl.col("p").is_not_null()
            & (pl.col("p") % 100).is_between(1, 12)
            & (pl.col("amt") > 0)
        ).alias("valid")
    )


SECTION_7 = """
WITH
pay AS (SELECT person_id, benefit_type, period::INT AS period, bank_account FROM read_csv($bp, all_varchar = true)),
deaths AS (
    SELECT person_id, min(year(death_date::DATE) * 100 + month(death_date::DATE)) AS dm
    FROM read_csv($dr, all_varchar = true) GROUP BY person_id),
stops AS (
    SELECT person_id, year(start_date::DATE) * 100 + month(start_date::DATE) AS s,
           year(end_date::DATE) * 100 + month(end_date::DATE) AS e
    FROM read_csv($cr, all_varchar = true)
    WHERE sentence_type IN ('detention', 'imprisonment', 'life', 'death_suspended')),
wages AS (
    SELECT DISTINCT person_id, period::INT AS period FROM read_csv($pw, all_varchar = true)
    WHERE wage_income::DECIMAL(18, 2) > 0),
enr AS (SELECT * FROM read_csv($enr, all_varchar = true)),
jobs AS (
    SELECT person_id, start_date::DATE AS s, end_date::DATE AS e FROM enr
    WHERE scheme IN ('110', '120') AND coalesce(employer_id, '') <> ''),
b AS (
    SELECT line, person_id, benefit_type, p AS period, bank_account, make_date(p // 100, p % 100, 1) AS m0
    FROM lines WHERE valid),
accounts AS (
    SELECT bank_account, period, count(DISTINCT person_id) AS persons
    FROM (SELECT bank_account, period, person_id FROM pay UNION ALL SELECT bank_account, period, person_id FROM b)
    GROUP BY ALL)
SELECT b.line, concat_ws(';',
    CASE WHEN b.benefit_type NOT IN ('funeral', 'survivor')
          AND EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = b.person_id AND b.period > d.dm)
         THEN 'DECEASED' END,
    CASE WHEN b.benefit_type = 'pension' AND EXISTS (
            SELECT 1 FROM stops s
            WHERE s.person_id = b.person_id AND b.period > s.s AND (s.e IS NULL OR b.period < s.e))
         THEN 'IN_CUSTODY' END,
    CASE WHEN EXISTS (SELECT 1 FROM pay p WHERE (p.person_id, p.benefit_type, p.period)
                                            = (b.person_id, b.benefit_type, b.period))
           OR EXISTS (SELECT 1 FROM b AS e WHERE (e.person_id, e.benefit_type, e.period)
                                              = (b.person_id, b.benefit_type, b.period) AND e.line < b.line)
         THEN 'ALREADY_PAID' END,
    CASE WHEN b.benefit_type = 'unemployment' AND (
            EXISTS (SELECT 1 FROM wages w WHERE (w.person_id, w.period) = (b.person_id, b.period))
         OR EXISTS (SELECT 1 FROM jobs j WHERE j.person_id = b.person_id AND j.s <= last_day(b.m0)
                                            AND (j.e IS NULL OR j.e >= b.m0)))
         THEN 'EMPLOYED' END,
    CASE WHEN b.benefit_type = 'unemployment' AND (
            EXISTS (SELECT 1 FROM pay p WHERE p.benefit_type = 'pension' AND (p.person_id, p.period)
                                              = (b.person_id, b.period))
         OR EXISTS (SELECT 1 FROM b AS e WHERE e.benefit_type = 'pension' AND (e.person_id, e.period)
                                              = (b.person_id, b.period)))
         THEN 'PENSIONER' END,
    CASE WHEN (SELECT persons FROM accounts a WHERE (a.bank_account, a.period) = (b.bank_account, b.period)) >= 3
         THEN 'SHARED_ACCOUNT' END,
    CASE WHEN b.person_id IN (SELECT key FROM blacklist WHERE kind = 'person')
           OR b.bank_account IN (SELECT key FROM blacklist WHERE kind = 'account')
         THEN 'BLACKLISTED' END,
    CASE WHEN b.person_id NOT IN (SELECT person_id FROM enr) THEN 'UNKNOWN_PERSON' END
) AS reasons
FROM b
UNION ALL
SELECT line, 'INVALID' FROM lines WHERE NOT valid
ORDER BY line
"""


def second_engine(root: Path) -> pl.DataFrame:
    files = {
        "bp": "benefit_payments",
        "dr": "death_records",
        "cr": "custody_records",
        "pw": "payroll_withholding",
        "enr": "enrollment",
    }
    with duckdb.connect() as con:
        con.register("lines", batch_lines(root))
        con.register("blacklist", pl.read_csv(root / "_truth" / "blacklist.csv", infer_schema=False))
        params = {k: str(root / v / "*.csv") for k, v in files.items()}
        rows = con.execute(SECTION_7, params).fetchall()
    return pl.DataFrame(rows, schema={"line": pl.Int64, "reasons": pl.String}, orient="row")


def test_a_second_engine_finds_exactly_the_truth(clean: Path) -> None:
    computed = second_engine(clean).with_columns(pl.col("line").cast(pl.Int64))
    expected = truth(clean).select("line", pl.col("reasons").fill_null(""))
    assert computed.height == expected.height
    assert computed.rows() == expected.rows()


def test_the_added_facts_change_no_nightly_finding(clean: Path) -> None:
    planted = truth(clean, "findings")
    expected = {(r["rule"], r["subject_id"]): fen(r["amount_at_risk"]) for r in planted.iter_rows(named=True)}
    assert oracle(clean) == expected


# ---- each plant stands on its facts (plain Polars over the clean inbox) -----------------------------------------


def load(root: Path, dataset: str) -> pl.DataFrame:
    df = pl.concat([pl.read_csv(p, infer_schema=False) for p in sorted((root / dataset).glob("*.csv"))], how="diagonal")
    casts = []
    for c in DATASETS[dataset]:
        if c.kind == "date":
            casts.append(pl.col(c.name).str.to_date("%Y-%m-%d"))
        elif c.kind == "period":
            casts.append(pl.col(c.name).cast(pl.Int64))
        elif c.kind == "money":
            casts.append(pl.col(c.name).str.to_decimal(scale=2))
    return df.with_columns(casts)


def ym(e: pl.Expr) -> pl.Expr:
    return (e.dt.year() * 100 + e.dt.month()).cast(pl.Int64)


def plant(t: pl.DataFrame, name: str) -> pl.DataFrame:
    rows = t.filter(pl.col("plant") == name).with_columns(pl.col("period").cast(pl.Int64))
    assert rows.height >= 1, name
    return rows


def test_near_misses_and_holds_stand_on_their_facts(clean: Path) -> None:  # noqa: PLR0915 - one plant a paragraph
    t = truth(clean)
    lines = (
        batch_lines(clean)
        .filter(pl.col("valid"))
        .select("line", "person_id", "benefit_type", pl.col("p").alias("period"), "bank_account")
    )
    pay = load(clean, "benefit_payments")
    deaths = load(clean, "death_records").group_by("person_id").agg(ym(pl.col("death_date")).min().alias("dm"))
    custody = load(clean, "custody_records").with_columns(
        ym(pl.col("start_date")).alias("s"), ym(pl.col("end_date")).alias("e")
    )
    enrollment = load(clean, "enrollment")
    wages = load(clean, "payroll_withholding").filter(pl.col("wage_income") > 0)

    def died(name: str) -> pl.DataFrame:
        return plant(t, name).join(deaths, on="person_id", how="left")

    # grants after death, the month of death, a pension after death
    for name, btype in (("near_funeral_after_death", "funeral"), ("near_survivor_after_death", "survivor")):
        rows = died(name)
        assert set(rows["benefit_type"]) == {btype} and (rows["period"] > rows["dm"]).all()
    rows = died("near_month_of_death")
    assert set(rows["benefit_type"]) == {"pension"} and (rows["period"] == rows["dm"]).all()
    for name in ("deceased", "deceased_in_custody", "deceased_already_paid", "deceased_not_enrolled"):
        rows = died(name)
        assert (rows["period"] > rows["dm"]).all() and not rows["benefit_type"].is_in(["funeral", "survivor"]).any()

    # custody: the month it starts, the month of release, community sentences, in custody
    def spells(name: str) -> pl.DataFrame:
        return plant(t, name).join(custody, on="person_id", how="inner")

    rows = spells("near_custody_start_month").filter(pl.col("sentence_type").is_in(STOPPING))
    assert rows.height >= 1 and (rows["s"] == rows["period"]).all()
    rows = spells("near_release_month").filter(pl.col("sentence_type").is_in(STOPPING))
    assert rows.height >= 1 and (rows["e"] == rows["period"]).all() and (rows["s"] < rows["period"]).all()
    for name, kind in (("near_suspended_sentence", "suspended"), ("near_surveillance", "surveillance")):
        rows = spells(name)
        assert set(rows["sentence_type"]) == {kind}
        assert ((rows["s"] <= rows["period"]) & (rows["e"].is_null() | (rows["e"] >= rows["period"]))).all()
    for name in ("in_custody", "in_custody_arrears", "deceased_in_custody"):
        rows = spells(name).filter(pl.col("sentence_type").is_in(STOPPING))
        inside = (pl.col("period") > pl.col("s")) & (pl.col("e").is_null() | (pl.col("period") < pl.col("e")))
        assert set(rows.filter(inside)["line"]) == set(plant(t, name)["line"])

    # ALREADY_PAID of both kinds; another benefit type for a month paid passes
    key = ["person_id", "benefit_type", "period"]
    held = t.filter(pl.col("reasons").str.contains("ALREADY_PAID")).with_columns(pl.col("period").cast(pl.Int64))
    paid = held.join(pay.select(key).unique(), on=key, how="semi")
    assert paid.height >= 3 and held.height - paid.height >= 2
    assert set(plant(t, "already_paid_other_scheme").join(pay, on=key)["scheme"]) <= {"110", "120"}
    rows = plant(t, "near_other_type_paid_month")
    assert (
        rows.join(pay, on=["person_id", "period"])
        .filter(pl.col("benefit_type") == pl.col("benefit_type_right"))["line"]
        .is_empty()
    )
    assert rows.join(pay, on=["person_id", "period"], how="semi").height == rows.height
    first = plant(t, "near_first_of_repeated_lines").join(lines.drop("bank_account"), on=key, suffix="_again")
    assert (first.filter(pl.col("line_again") > pl.col("line")).height) == plant(
        t, "near_first_of_repeated_lines"
    ).height

    # EMPLOYED on each ground alone; the month after a job ended passes
    employed = t.filter(pl.col("reasons").str.contains("EMPLOYED")).with_columns(pl.col("period").cast(pl.Int64))
    jobs = enrollment.filter(pl.col("scheme").is_in(["110", "120"]) & pl.col("employer_id").is_not_null())
    month = pl.date(pl.col("period") // 100, pl.col("period") % 100, 1)
    active = employed.join(jobs, on="person_id").filter(
        (pl.col("start_date") <= month.dt.month_end()) & (pl.col("end_date").is_null() | (pl.col("end_date") >= month))
    )
    by_wage = employed.join(wages, on=["person_id", "period"], how="semi")
    assert by_wage.join(active, on="line", how="anti").height >= 2
    assert active.join(by_wage, on="line", how="anti").height >= 2
    rows = plant(t, "near_month_after_job_ended").join(jobs, on="person_id")
    for ended, period in rows.select(ym(pl.col("end_date")), "period").iter_rows():
        assert period == (ended + 1 if ended % 100 != 12 else ended + 89)
        assert wages.filter((pl.col("person_id") == rows["person_id"][0]) & (pl.col("period") == period)).is_empty()

    # PENSIONER by a pension paid and by a pension in the batch; a neighbouring month passes
    pensions = pl.concat(
        [
            pay.filter(pl.col("benefit_type") == "pension").select("person_id", "period"),
            lines.filter(pl.col("benefit_type") == "pension").select("person_id", "period"),
        ]
    )
    for name in ("pensioner_paid_pension", "pensioner_in_batch"):
        assert plant(t, name).join(pensions, on=["person_id", "period"], how="semi").height == plant(t, name).height
    assert plant(t, "pensioner_paid_pension").join(pay, on=["person_id", "period"], how="semi").height >= 2
    rows = plant(t, "near_unemployment_adjacent_pension")
    assert rows.join(pensions, on=["person_id", "period"], how="semi").is_empty()
    after = rows.with_columns(pl.lit(202601, dtype=pl.Int64).alias("period"))
    assert after.join(pensions, on=["person_id", "period"], how="semi").height == rows.height

    # SHARED_ACCOUNT: 2 in the inbox + 1 in the batch; 3 batch lines alone; 2 persons; 3 across periods
    on_account = pl.concat(
        [pay.select("bank_account", "period", "person_id"), lines.select("bank_account", "period", "person_id")]
    )
    persons = on_account.group_by("bank_account", "period").agg(pl.col("person_id").n_unique().alias("n"))
    inbox = pay.group_by("bank_account", "period").agg(pl.col("person_id").n_unique().alias("inbox"))
    for name, in_inbox in (("shared_account_inbox_and_batch", [2]), ("shared_account_batch", [None])):
        rows = (
            plant(t, name)
            .join(persons, on=["bank_account", "period"])
            .join(inbox, on=["bank_account", "period"], how="left")
        )
        assert (rows["n"] >= 3).all() and set(rows["inbox"]) == set(in_inbox)
    rows = plant(t, "near_two_persons_one_account").join(persons, on=["bank_account", "period"])
    assert set(rows["n"]) == {2} and rows["person_id"].n_unique() == 2
    account = plant(t, "near_account_across_periods")["bank_account"].unique()
    assert account.len() == 1
    shared = on_account.filter(pl.col("bank_account") == account[0])
    assert shared["person_id"].n_unique() >= 3
    assert shared.group_by("period").agg(pl.col("person_id").n_unique())["person_id"].max() == 2

    # the blacklist: persons and accounts hold, an employer does not
    blacklist = pl.read_csv(clean / "_truth" / "blacklist.csv", infer_schema=False)
    listed = set(blacklist.filter(pl.col("kind") != "employer")["key"])
    banned = t.filter(pl.col("person_id").is_in(listed) | pl.col("bank_account").is_in(listed))
    assert banned.filter(pl.col("verdict") == "hold").height == banned.height
    assert set(banned["line"]) == set(t.filter(pl.col("reasons").str.contains("BLACKLISTED"))["line"])
    employers = set(blacklist.filter(pl.col("kind") == "employer")["key"])
    rows = plant(t, "near_blacklisted_employer").join(enrollment, on="person_id")
    assert rows["employer_id"].is_in(employers).any()

    # UNKNOWN_PERSON: valid IDs nobody is enrolled under
    unknown = t.filter(pl.col("reasons").str.contains("UNKNOWN_PERSON"))
    assert unknown["person_id"].map_elements(valid_id, return_dtype=pl.Boolean).all()
    assert unknown.join(enrollment, on="person_id", how="semi").is_empty()


# ---- the dirty batch reads back to its truth ---------------------------------------------------------------------


def normal_id(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw).replace(" ", "").upper()
    if len(s) == 15:
        s = s[:6] + "19" + s[6:]
        s += check_digit(s)
    return s


def normal_period(raw: str) -> str:
    s = unicodedata.normalize("NFKC", raw).strip()
    for fmt in ("%Y%m", "%Y-%m", "%Y年%m月"):
        try:
            return dt.datetime.strptime(s, fmt).strftime("%Y%m")
        except ValueError:
            continue
    return s


def test_the_dirty_batch_reads_back_to_its_truth(dirty: Path) -> None:
    raw = (dirty / BATCH).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    zh = {c.zh: c.name for c in DATASETS["benefit_payments"]}
    header = text.splitlines()[0].split(",")
    assert {h.strip() for h in header} == set(zh) and any(h != h.strip() for h in header)
    rows = pl.read_csv(io.StringIO(text), infer_schema=False).rename(lambda h: zh[h.strip()])
    labels = {
        label: code
        for family in ("scheme", "benefit_type")
        for code, names in yaml.safe_load(CODES.read_text(encoding="utf-8"))[family].items()
        for label in names
    }
    t = truth(dirty)
    assert rows.height == t.height
    forms = {"fullwidth": 0, "15": 0, "x": 0, "padded": 0, "label": 0}
    for written, row in zip(rows.iter_rows(named=True), t.iter_rows(named=True), strict=True):
        assert (written["payment_id"] or None) == row["payment_id"]
        forms["fullwidth"] += any("０" <= ch <= "９" for ch in written["person_id"] + written["amount"])
        forms["15"] += len(written["person_id"].strip()) == 15
        forms["x"] += written["person_id"].endswith("x")
        forms["padded"] += written["benefit_type"] != written["benefit_type"].strip()
        forms["label"] += written["benefit_type"].strip() in labels or written["scheme"] in labels
        btype = written["benefit_type"].strip()
        assert labels.get(btype, btype) == row["benefit_type"]
        if row["plant"] == "invalid_check_digit":
            assert written["person_id"] == row["person_id"] and not valid_id(row["person_id"])
            continue
        assert normal_id(written["person_id"]) == row["person_id"] and valid_id(row["person_id"])
        assert normal_period(written["period"]) == row["period"]
        amount = unicodedata.normalize("NFKC", written["amount"]).replace(",", "")
        assert Decimal(amount) == Decimal(row["amount"])
        assert written["bank_account"] == row["bank_account"]
    assert all(n >= 1 for n in forms.values()), forms
    written_id = dict(zip(t["line"], rows["person_id"], strict=True))
    assert len(written_id[plant(t, "near_id_15_digit")["line"][0]]) == 15
    assert written_id[plant(t, "near_id_lowercase_x")["line"][0]].endswith("x")
