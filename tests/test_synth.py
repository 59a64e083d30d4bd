"""Tests of the synthetic inbox generator (pipelines.synth).

Besides determinism and the shape of the truth files, a small independent
oracle re-implements the fifteen rules of CONTRACT section 3 over the *clean*
inbox and must find exactly the planted findings (same subjects, same amounts):
this proves the background is finding-free and the truth is right.  The
mistyped IDs of the *dirty* inbox (section 6) are checked by brute force: every
one has the enrolled candidates `_truth/resolutions.csv` says.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.synth import YEAR, generate
from pipelines.synth.constants import DATASETS
from pipelines.synth.ids import check_digit, is_valid_id, to_15

PERSONS = 2000
RULES = (
    "DUP_ENROLL",
    "DUP_BENEFIT",
    "DECEASED_PAID",
    "UNEMP_WHILE_EMPLOYED",
    "DUP_CLAIM",
    "SHARED_ACCOUNT",
    "RECON_CONTRIB",
    "RECON_LEDGER_BANK",
    "RECON_PAYMENT",
    "UNREGISTERED_ACCOUNT",
    "SOD_BREACH",
    "LARGE_PAYMENT_UNAPPROVED",
    "PRISONER_PAID",
    "UNEMP_WITH_PENSION",
    "DUP_IDENTITY",
)
STOPPING = ("detention", "imprisonment", "life", "death_suspended")
AS_OF = pl.date(YEAR, 12, 31)
LARGE_FEN = 10_000_000


@pytest.fixture(scope="module")
def dirty_inbox(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    generate(PERSONS, out, seed=7, dirty=True)
    return out


@pytest.fixture(scope="module")
def clean_inbox(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(PERSONS, out, seed=7, dirty=False)
    return out


def file_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def truth(root: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(root / "_truth" / f"{name}.csv", infer_schema=False)


# ---- reading the clean inbox ----------------------------------------------------------


def load(root: Path, dataset: str) -> pl.DataFrame:
    """All CSV files of a dataset of the clean inbox, typed (money in fen)."""
    frames = [pl.read_csv(p, infer_schema=False) for p in sorted((root / dataset).glob("*.csv"))]
    df = pl.concat(frames)
    casts = []
    for c in DATASETS[dataset]:
        col = pl.col(c.name)
        if c.kind == "date":
            casts.append(col.str.to_date("%Y-%m-%d"))
        elif c.kind == "money":
            casts.append(col.str.replace(r"\.", "").cast(pl.Int64))
        elif c.kind in ("period", "int"):
            casts.append(col.cast(pl.Int64))
        elif c.kind == "timestamp":
            casts.append(col.str.to_datetime("%Y-%m-%d %H:%M:%S"))
    return df.with_columns(casts)


def fen(s: str) -> int:
    whole, _, cents = s.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(cents.ljust(2, "0")))


# ---- the oracle: CONTRACT section 3, written plainly -----------------------------------


def ym(e: pl.Expr) -> pl.Expr:
    return e.dt.year() * 100 + e.dt.month()


def oracle(root: Path) -> dict[tuple[str, str], int]:
    d = {name: load(root, name) for name in DATASETS}
    found: dict[tuple[str, str], int] = {}

    def add(rule: str, frame: pl.DataFrame, subject: str, amount: str | None) -> None:
        for row in frame.iter_rows(named=True):
            found[(rule, row[subject])] = found.get((rule, row[subject]), 0) + (row[amount] if amount else 0)

    fam = {"110": "P", "120": "P", "170": "P", "310": "M", "390": "M"}
    e = d["enrollment"].with_columns(pl.col("scheme").replace_strict(fam, default="").alias("fam"))
    pairs = e.join(e, on="person_id", suffix="_b").filter(pl.col("enrollment_id") < pl.col("enrollment_id_b"))
    pairs = pairs.with_columns(
        (
            pl.min_horizontal(pl.col("end_date").fill_null(AS_OF), pl.col("end_date_b").fill_null(AS_OF))
            - pl.max_horizontal("start_date", "start_date_b")
        )
        .dt.total_days()
        .alias("ov")
    )
    hit = pairs.filter(
        (pl.col("ov") + 1 > 30)
        & ((pl.col("scheme") == pl.col("scheme_b")) | ((pl.col("fam") != "") & (pl.col("fam") == pl.col("fam_b"))))
    )
    add("DUP_ENROLL", hit.unique("person_id"), "person_id", None)

    pay = d["benefit_payments"]
    dup = (
        pay.group_by("person_id", "benefit_type", "period")
        .agg(pl.len().alias("n"), (pl.col("amount").sum() - pl.col("amount").max()).alias("risk"))
        .filter(pl.col("n") > 1)
    )
    add("DUP_BENEFIT", dup, "person_id", "risk")

    death = d["death_records"].group_by("person_id").agg(ym(pl.col("death_date").min()).alias("dm"))
    late = pay.join(death, on="person_id").filter(
        (pl.col("period") > pl.col("dm")) & ~pl.col("benefit_type").is_in(["funeral", "survivor"])
    )
    add("DECEASED_PAID", late, "person_id", "amount")

    un = pay.filter(pl.col("benefit_type") == "unemployment")
    wage = d["payroll_withholding"].filter(pl.col("wage_income") > 0).select("person_id", "period").unique()
    jobs = d["enrollment"].filter(pl.col("scheme").is_in(["110", "120"]) & pl.col("employer_id").is_not_null())
    m_start = pl.date(pl.col("period") // 100, pl.col("period") % 100, 1)
    by_job = un.join(jobs, on="person_id").filter(
        (pl.col("start_date") <= m_start.dt.month_end()) & (pl.col("end_date").fill_null(AS_OF) >= m_start)
    )
    flagged = pl.concat(
        [
            un.join(wage, on=["person_id", "period"], how="semi"),
            un.join(by_job.select("payment_id"), on="payment_id", how="semi"),
        ]
    ).unique("payment_id")
    add("UNEMP_WHILE_EMPLOYED", flagged, "person_id", "amount")

    claims = d["medical_claims"].with_columns(
        pl.col("invoice_no")
        .map_elements(lambda s: unicodedata.normalize("NFKC", s).upper().replace(" ", ""), return_dtype=pl.String)
        .alias("inv")
    )
    extra = []
    for key in (["person_id", "inv"], ["person_id", "hospital_id", "service_date", "total_amount"]):
        g = claims.sort("claim_id").with_columns(
            pl.int_range(pl.len()).over(key).alias("k"), pl.len().over(key).alias("n")
        )
        extra.append(g.filter((pl.col("n") > 1) & (pl.col("k") > 0)))
    add("DUP_CLAIM", pl.concat(extra).unique("claim_id"), "person_id", "fund_paid")

    shared = (
        pay.group_by("bank_account", "period")
        .agg(pl.col("person_id").n_unique().alias("n"), pl.col("amount").sum().alias("amt"))
        .filter(pl.col("n") >= 3)
    )
    add("SHARED_ACCOUNT", shared, "bank_account", "amt")

    key = ["employer_id", "scheme", "period"]
    due = d["contributions"].group_by(key).agg(pl.col("amount_due").sum())
    got = d["tax_collections"].group_by(key).agg(pl.col("amount_collected").sum())
    rc = due.join(got, on=key, how="full", coalesce=True).with_columns(
        (pl.col("amount_due").fill_null(0) - pl.col("amount_collected").fill_null(0)).abs().alias("diff"),
        (pl.col("employer_id") + "|" + pl.col("scheme") + "|" + pl.col("period").cast(pl.String)).alias("s"),
    )
    add("RECON_CONTRIB", rc.filter(pl.col("diff") > 1), "s", "diff")

    accounts = d["fund_accounts"]
    special = accounts.filter(pl.col("account_type") == "special").select("account_no")
    led = d["finance_ledger"]
    bank = d["bank_statements"]
    sbank = bank.join(special, on="account_no", how="semi")
    cand = (
        led.join(sbank, on=["account_no", "direction", "amount"])
        .with_columns((pl.col("entry_date") - pl.col("txn_date")).dt.total_days().abs().alias("gap"))
        .filter(pl.col("gap") <= 3)
    )
    used_l, used_b = set(), set()
    for row in cand.sort("gap", "entry_id", "txn_id").iter_rows(named=True):
        if row["entry_id"] not in used_l and row["txn_id"] not in used_b:
            used_l.add(row["entry_id"])
            used_b.add(row["txn_id"])
    for row in led.filter(~pl.col("entry_id").is_in(list(used_l))).iter_rows(named=True):
        found[("RECON_LEDGER_BANK", f"ledger:{row['entry_id']}")] = row["amount"]
    for row in sbank.filter(~pl.col("txn_id").is_in(list(used_b))).iter_rows(named=True):
        found[("RECON_LEDGER_BANK", f"bank:{row['txn_id']}")] = row["amount"]

    disb = d["bank_disbursements"]
    j = pay.join(disb, on="payment_id", how="left", suffix="_bank")
    bad = j.filter(
        pl.col("status").is_null()
        | (pl.col("status") != "success")
        | (pl.col("amount") != pl.col("amount_bank"))
        | (pl.col("bank_account") != pl.col("bank_account_bank"))
    )
    add("RECON_PAYMENT", bad, "payment_id", "amount")
    add("RECON_PAYMENT", disb.join(pay, on="payment_id", how="anti"), "payment_id", "amount")

    moves = bank.join(accounts.select("account_no", "closed_date"), on="account_no", how="left")
    unknown = bank.join(accounts, on="account_no", how="anti")
    after = moves.filter(pl.col("txn_date") > pl.col("closed_date"))
    add(
        "UNREGISTERED_ACCOUNT",
        pl.concat([unknown.select("account_no", "amount"), after.select("account_no", "amount")]),
        "account_no",
        "amount",
    )

    log = d["business_log"].join(d["operators"].select("operator_id", "role"), on="operator_id", how="left")
    amounts = log.group_by("business_id").agg(pl.col("amount").max())
    twice = (
        log.group_by("business_id", "operator_id").agg(pl.col("stage").n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    admin = log.filter(pl.col("role") == "admin")
    sod = pl.concat([twice.select("business_id"), admin.select("business_id")]).unique().join(amounts, on="business_id")
    add("SOD_BREACH", sod, "business_id", "amount")
    approved = log.filter((pl.col("stage") == "approve") & (pl.col("role") == "leader")).select("business_id")
    large = amounts.filter(pl.col("amount") >= LARGE_FEN).join(approved, on="business_id", how="anti")
    add("LARGE_PAYMENT_UNAPPROVED", large, "business_id", "amount")

    pensions = pay.filter(pl.col("benefit_type") == "pension")
    stopping = d["custody_records"].filter(pl.col("sentence_type").is_in(STOPPING))
    held = (
        pensions.join(stopping, on="person_id")
        .filter(
            (pl.col("period") > ym(pl.col("start_date")))
            & (pl.col("end_date").is_null() | (pl.col("period") < ym(pl.col("end_date"))))
        )
        .unique("payment_id")
    )
    add("PRISONER_PAID", held, "person_id", "amount")

    both = un.join(pensions.select("person_id", "period").unique(), on=["person_id", "period"], how="semi")
    add("UNEMP_WITH_PENSION", both, "person_id", "amount")

    found.update(dup_identity(d["enrollment"], pensions))
    return found


def name_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def dup_identity(enrollment: pl.DataFrame, pensions: pl.DataFrame) -> dict[tuple[str, str], int]:
    """一人多号, plainly: IDs enrolled under one name (spaces, full-width ignored), birth date and gender (as the
    IDs encode them), paid a pension for a period another of them is paid for; all but the largest."""
    identities: dict[tuple, set[str]] = {}
    for pid, name in enrollment.select("person_id", "name").unique().iter_rows():
        identities.setdefault((name_key(name), pid[6:14], int(pid[16]) % 2), set()).add(pid)
    paid: dict[str, dict[int, list[int]]] = {}
    for pid, period, amount in pensions.select("person_id", "period", "amount").iter_rows():
        paid.setdefault(pid, {}).setdefault(period, []).append(amount)
    found = {}
    for ids in identities.values():
        by_period: dict[int, dict[str, list[int]]] = {}
        for pid in ids:
            for period, amounts in paid.get(pid, {}).items():
                by_period.setdefault(period, {})[pid] = amounts
        shared = {k: v for k, v in by_period.items() if len(v) > 1}
        if shared:
            subject = "|".join(sorted({pid for v in shared.values() for pid in v}))
            every = [[a for amounts in v.values() for a in amounts] for v in shared.values()]
            found[("DUP_IDENTITY", subject)] = sum(sum(a) - max(a) for a in every)
    return found


# ---- tests ------------------------------------------------------------------------------


def test_oracle_finds_exactly_the_planted_findings(clean_inbox: Path) -> None:
    planted = truth(clean_inbox, "findings")
    expected = {(r["rule"], r["subject_id"]): fen(r["amount_at_risk"]) for r in planted.iter_rows(named=True)}
    found = oracle(clean_inbox)
    # DUP_ENROLL has no money in the contract; the truth writes 0.00
    assert set(found) == set(expected)
    for key, amount in expected.items():
        assert found[key] == amount, key
    near = truth(clean_inbox, "near_misses")
    assert near.height >= 10
    for row in near.iter_rows(named=True):
        assert (row["rule"], row["subject_id"]) not in found


def test_every_rule_planted(dirty_inbox: Path) -> None:
    findings = truth(dirty_inbox, "findings")
    assert set(findings["rule"]) == set(RULES)
    assert findings.select("rule", "subject_id").is_unique().all()
    assert (
        findings.filter(pl.col("rule") != "DUP_ENROLL")["amount_at_risk"].map_elements(fen, return_dtype=pl.Int64).min()
        > 0
    )


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path, dirty_inbox: Path) -> None:
    again = tmp_path / "again"
    generate(PERSONS, again, seed=7, dirty=True)
    assert file_hashes(again) == file_hashes(dirty_inbox)
    other = tmp_path / "other"
    generate(PERSONS, other, seed=8, dirty=True)
    h_other, h_first = file_hashes(other), file_hashes(dirty_inbox)
    assert h_other["_truth/findings.csv"] != h_first["_truth/findings.csv"]
    assert h_other["enrollment/enr_330100.csv"] != h_first["enrollment/enr_330100.csv"]


def test_ids_valid_and_consistent_with_enrollment(clean_inbox: Path) -> None:
    e = load(clean_inbox, "enrollment")
    ids = e["person_id"].unique().to_list()
    assert ids and all(is_valid_id(x) for x in ids)
    bad = e.filter(
        (pl.col("person_id").str.slice(6, 8) != pl.col("birth_date").dt.strftime("%Y%m%d"))
        | ((pl.col("person_id").str.slice(16, 1).cast(pl.Int64) % 2 == 1) != (pl.col("gender") == "1"))
    )
    assert bad.height == 0
    for name in ("benefit_payments", "medical_claims", "payroll_withholding", "death_records", "custody_records"):
        assert all(is_valid_id(x) for x in load(clean_inbox, name)["person_id"].unique())


def test_id_forms_convert_back(dirty_inbox: Path) -> None:
    forms = truth(dirty_inbox, "id_forms")
    assert forms.height > 0
    for raw, canon in forms.select("raw_id", "canonical_id").iter_rows():
        s = unicodedata.normalize("NFKC", raw).replace(" ", "").upper()
        if len(s) == 15:
            s = s[:6] + "19" + s[6:]
            s += check_digit(s)
            assert to_15(canon) == raw.strip()
        assert s == canon


def test_bad_rows_and_rejected_files(dirty_inbox: Path, clean_inbox: Path) -> None:
    bad = truth(dirty_inbox, "bad_rows")
    assert bad.height > 0
    assert set(bad["kind"]) == {"bad_date", "bad_id", "negative_amount", "missing_required", "unknown_code"}
    rejected = truth(dirty_inbox, "rejected_files")
    assert rejected.height >= 4
    assert set(rejected["kind"]) >= {"missing_required_column", "not_csv", "truncated_parquet", "truncated_xlsx"}
    assert truth(clean_inbox, "bad_rows").height == 0
    assert truth(clean_inbox, "rejected_files").height == 0


def test_valid_rows_match_files(dirty_inbox: Path) -> None:
    valid = truth(dirty_inbox, "valid_rows").with_columns(pl.col("rows_valid", "rows_bad").cast(pl.Int64))
    rejected = set(truth(dirty_inbox, "rejected_files")["file"])
    listed = set(valid["file"])
    on_disk = {str(p.relative_to(dirty_inbox)) for p in dirty_inbox.rglob("*.*") if "_truth" not in p.parts}
    assert on_disk == listed | rejected
    formats = {Path(f).suffix for f in listed}
    assert formats == {".csv", ".parquet", ".xlsx"}
    for _ds, f, n_valid, n_bad, _n_resolved in valid.iter_rows():
        path = dirty_inbox / f
        if path.suffix == ".parquet":
            assert pq.ParquetFile(path).metadata.num_rows == n_valid + n_bad
        elif path.suffix == ".csv":
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else _decode(raw)
            assert pl.read_csv(io.StringIO(text), infer_schema=False).height == n_valid + n_bad


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def test_dirty_inbox_mixes_encodings_and_headers(dirty_inbox: Path) -> None:
    encodings, chinese = set(), False
    for p in dirty_inbox.rglob("*.csv"):
        if p.parent.name == "_truth" or str(p.relative_to(dirty_inbox)) in set(
            truth(dirty_inbox, "rejected_files")["file"]
        ):
            continue
        raw = p.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            encodings.add("bom")
        else:
            try:
                raw.decode("utf-8")
                encodings.add("utf-8")
            except UnicodeDecodeError:
                encodings.add("gb18030")
        chinese |= "公民身份号码" in _decode(raw.removeprefix(b"\xef\xbb\xbf")).splitlines()[0]
    assert encodings == {"bom", "utf-8", "gb18030"}
    assert chinese


def test_clean_mode_is_plain_utf8_csv(clean_inbox: Path) -> None:
    for p in clean_inbox.rglob("*"):
        if p.is_dir() or p.parent.name == "_truth":
            continue
        assert p.suffix == ".csv"
        raw = p.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        header = raw.decode("utf-8").splitlines()[0].split(",")
        assert header == [c.name for c in DATASETS[p.parent.name]]


def _raw_rows(path: Path) -> tuple[list[str], list[list]]:
    """Header (canonical-ish, stripped) and data rows of one inbox file, as delivered."""
    if path.suffix == ".parquet":
        df = pl.read_parquet(path)
    elif path.suffix == ".xlsx":
        df = pl.read_excel(path, infer_schema_length=0)
    else:
        raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        df = pl.read_csv(io.StringIO(_decode(raw)), infer_schema=False)
    return [c.strip() for c in df.columns], [list(r) for r in df.iter_rows()]


def test_bad_rows_point_at_the_broken_cell(dirty_inbox: Path) -> None:
    from pipelines.synth.writer import BAD_DATES, BAD_PERIODS, UNKNOWN_CODES

    bad = truth(dirty_inbox, "bad_rows").with_columns(pl.col("line").cast(pl.Int64))
    for dataset, file, line, column, kind in bad.iter_rows():
        header, rows = _raw_rows(dirty_inbox / file)
        zh = {c.name: c.zh for c in DATASETS[dataset]}[column]
        value = rows[line - 2][header.index(column if column in header else zh)]
        if kind == "bad_date":
            assert value in BAD_DATES + BAD_PERIODS
        elif kind == "bad_id":
            assert len(value) == 18 and not is_valid_id(value)
        elif kind == "negative_amount":
            assert str(value).startswith("-")
        elif kind == "missing_required":
            assert value in (None, "")
        else:
            assert str(value).strip() in UNKNOWN_CODES.values()


@pytest.mark.slow
def test_a_province_generated_in_parts_keeps_parts_apart_and_its_findings_add_up(tmp_path):
    """Large provinces are generated part by part (bounded memory); parts share no person, account or id."""
    import datetime as dt
    from decimal import Decimal

    from pipelines.detect.engine import run_rule
    from pipelines.detect.stage import stage_datasets
    from pipelines.ingest.inbox import discover
    from pipelines.ingest.load import ingest_file
    from pipelines.rules import RULES as REGISTRY
    from pipelines.warehouse.session import connect

    out = tmp_path / "parted"
    summary = generate(1500, out, seed=9, dirty=False, part_persons=500)
    assert summary["parts"] == 3
    enrollment = pl.concat(
        [
            pl.read_csv(p, infer_schema=False).with_columns(pl.lit(p.stem[-2:]).alias("part"))
            for p in sorted((out / "enrollment").glob("*.csv"))
        ]
    )
    assert set(enrollment["part"]) == {"p0", "p1", "p2"}
    per_person = enrollment.group_by("person_id").agg(pl.col("part").n_unique().alias("parts"))
    assert per_person["parts"].max() == 1, "a citizen ID appears in two parts"
    payments = pl.concat([pl.read_csv(p, infer_schema=False) for p in (out / "benefit_payments").glob("*.csv")])
    assert payments["payment_id"].n_unique() == payments.height
    truth = pl.read_csv(out / "_truth" / "findings.csv", infer_schema=False)
    assert sorted(set(truth["part"])) == ["0", "1", "2"]

    con = connect(tmp_path / "fw.duckdb")
    for item in discover(out):
        assert ingest_file(con, item, "r1", dt.date(2026, 11, 27)).status == "loaded"
    stage_datasets(con, tmp_path / "stage")
    con.close()
    for rule in REGISTRY:
        found = run_rule(rule, tmp_path / "stage", dt.date(2026, 11, 27), Decimal("100000.00"))
        assert found.height == summary["findings"][rule.code] > 0, rule.code


# ---- custody, 一人多号, mistyped IDs (issue 14) --------------------------------------------


def _normal_id(raw: str) -> str:
    s = unicodedata.normalize("NFKC", str(raw)).replace(" ", "").upper()
    if len(s) == 15:
        s = s[:6] + "19" + s[6:]
        s += check_digit(s)
    return s


def dirty_rows(root: Path, dataset: str) -> list[dict]:
    """Every data row of a dataset of the dirty inbox as delivered, keyed by canonical column name, with its
    file and line (header = 1); rejected files left out."""
    zh = {c.zh: c.name for c in DATASETS[dataset]}
    rejected = set(truth(root, "rejected_files")["file"])
    out = []
    for path in sorted((root / dataset).iterdir()):
        rel = str(path.relative_to(root))
        if rel in rejected:
            continue
        header, rows = _raw_rows(path)
        names = [zh.get(h, h) for h in header]
        out += [dict(zip(names, row, strict=True)) | {"file": rel, "line": i + 2} for i, row in enumerate(rows)]
    return out


def one_edit(a: str, b: str) -> bool:
    """b differs from a by one substituted character or one swap of two adjacent characters."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 2:
        i, j = diff
        return j == i + 1 and a[i] == b[j] and a[j] == b[i]
    return len(diff) == 1


def enrolled_of(root: Path) -> dict[str, set[str]]:
    """A dirty inbox's enrolled IDs (canonical) and their names as compared, bad rows left out."""
    bad = {(f, int(line)) for f, line in truth(root, "bad_rows").select("file", "line").rows()}
    enrolled: dict[str, set[str]] = {}
    for row in dirty_rows(root, "enrollment"):
        if (row["file"], row["line"]) not in bad:
            enrolled.setdefault(_normal_id(row["person_id"]), set()).add(name_key(row["name"]))
    return enrolled


def assert_resolutions_hold(root: Path) -> int:
    """Every row of _truth/resolutions.csv is, in its file, the mistyped ID it says, with the enrolled candidates
    (one substitution or adjacent swap away; with the row's name in death and custody records) it says,
    counted by brute force over the whole enrollment.  Returns how many rows were checked."""
    resolutions = truth(root, "resolutions").with_columns(pl.col("line", "candidates").cast(pl.Int64))
    enrolled = enrolled_of(root)
    rows = {}
    for dataset in set(resolutions["dataset"]):
        rows |= {(r["file"], r["line"]): r for r in dirty_rows(root, dataset)}
    for dataset, file, line, raw, expected, outcome, candidates in resolutions.iter_rows():
        row = rows[(file, line)]
        assert str(row["person_id"]) == raw, (file, line)
        assert len(raw) == 18 and not is_valid_id(raw)
        hits = [
            pid
            for pid, names in enrolled.items()
            if one_edit(raw, pid)
            and (dataset not in ("death_records", "custody_records") or name_key(row["name"]) in names)
        ]
        assert len(hits) == candidates, (raw, hits)
        assert outcome == {0: "no_candidate", 1: "resolved"}.get(len(hits), "ambiguous")
        assert (expected or None) == (hits[0] if outcome == "resolved" else None)
    return resolutions.height


def test_every_mistyped_id_has_the_candidates_its_truth_says(dirty_inbox: Path) -> None:
    assert assert_resolutions_hold(dirty_inbox) >= 20


def test_in_a_province_generated_in_parts_names_and_typo_candidates_stay_in_their_part(tmp_path: Path) -> None:
    out = tmp_path / "parted"
    generate(1000, out, seed=4, dirty=True, part_persons=500)
    assert assert_resolutions_hold(out) >= 40  # against the enrollment of both parts
    parts: dict[str, set[str]] = {}
    for row in dirty_rows(out, "enrollment"):
        if row["name"]:
            parts.setdefault(row["name"].strip()[0], set()).add(Path(row["file"]).stem[-2:])
    assert set().union(*parts.values()) == {"p0", "p1"}
    assert max(len(v) for v in parts.values()) == 1, "a surname in two parts: namesakes across parts"


def test_resolutions_cover_every_bad_id_of_a_resolving_dataset(dirty_inbox: Path) -> None:
    resolving = {"benefit_payments", "medical_claims", "payroll_withholding", "death_records", "custody_records"}
    bad = truth(dirty_inbox, "bad_rows").filter((pl.col("kind") == "bad_id") & pl.col("dataset").is_in(resolving))
    resolutions = truth(dirty_inbox, "resolutions")
    assert set(resolutions.select("dataset", "file", "line").rows()) == set(
        bad.select("dataset", "file", "line").rows()
    )
    assert (bad["column"] == "person_id").all()


def test_the_planted_typos_cover_what_section_6_asks(dirty_inbox: Path) -> None:
    res = truth(dirty_inbox, "resolutions")
    resolved = res.filter(pl.col("outcome") == "resolved")

    def kind(raw: str, pid: str) -> str:
        diff = [i for i in range(18) if raw[i] != pid[i]]
        return "substitution" if len(diff) == 1 else "swap"

    kinds = {(d, kind(raw, pid)) for d, raw, pid in resolved.select("dataset", "person_id_raw", "expected").rows()}
    for dataset in ("benefit_payments", "medical_claims", "payroll_withholding", "death_records"):
        assert {(dataset, "substitution"), (dataset, "swap")} <= kinds, dataset
    assert "custody_records" in set(resolved["dataset"])
    assert {"death_records", "benefit_payments", "payroll_withholding", "medical_claims"} <= set(
        res.filter(pl.col("outcome") == "ambiguous")["dataset"]
    )
    assert (res.filter(pl.col("outcome") == "ambiguous")["candidates"].cast(int) >= 2).all()
    assert res.filter(pl.col("outcome") == "no_candidate").height > 0
    # a death notice that only resolves makes a DECEASED_PAID finding under the canonical ID
    findings = truth(dirty_inbox, "findings")
    deceased = set(findings.filter(pl.col("rule") == "DECEASED_PAID")["person_id"])
    assert set(resolved.filter(pl.col("dataset") == "death_records")["expected"]) <= deceased
    prisoners = set(findings.filter(pl.col("rule") == "PRISONER_PAID")["person_id"])
    assert set(resolved.filter(pl.col("dataset") == "custody_records")["expected"]) <= prisoners


def test_a_clean_inbox_holds_what_a_dirty_one_loads_after_resolution(dirty_inbox: Path, clean_inbox: Path) -> None:
    def per_dataset(root: Path, columns: list[str]) -> dict[str, int]:
        valid = truth(root, "valid_rows").with_columns(pl.col(columns).cast(pl.Int64))
        return dict(valid.group_by("dataset").agg(pl.sum_horizontal(columns).sum()).rows())

    assert per_dataset(dirty_inbox, ["rows_valid", "rows_resolved"]) == per_dataset(clean_inbox, ["rows_valid"])
    assert truth(clean_inbox, "resolutions").height == 0
    assert truth(dirty_inbox, "findings").equals(truth(clean_inbox, "findings"))


def test_custody_records(clean_inbox: Path) -> None:
    custody = load(clean_inbox, "custody_records")
    assert set(custody["sentence_type"]) == set(STOPPING) | {"suspended", "surveillance"}
    assert custody["name"].null_count() == 0
    assert custody.filter(pl.col("end_date").is_null()).height > 0
    assert custody.filter(pl.col("end_date") <= pl.date(YEAR, 12, 31)).height > 0
    assert custody.filter(pl.col("end_date") > pl.date(YEAR, 12, 31)).height > 0
    community = pl.read_csv(clean_inbox / "custody_records" / "cr_community.csv", infer_schema=False)
    assert set(community["sentence_type"]) == {"suspended", "surveillance"}
    near = truth(clean_inbox, "near_misses").filter(pl.col("rule") == "PRISONER_PAID")
    assert near.height >= 4
    # background persons in custody too, not only plants
    planted = set(truth(clean_inbox, "findings")["person_id"]) | set(near["subject_id"])
    assert custody.filter(~pl.col("person_id").is_in(list(planted))).height >= 6


def test_dup_identity_person_region_and_periods(clean_inbox: Path) -> None:
    findings = truth(clean_inbox, "findings").filter(pl.col("rule") == "DUP_IDENTITY")
    assert sorted(set(findings["subject_id"].str.count_matches(r"\|"))) == [1, 2]  # two IDs and three
    enrollment = load(clean_inbox, "enrollment")
    pensions = load(clean_inbox, "benefit_payments").filter(pl.col("benefit_type") == "pension")
    for subject, person, region, p_from, p_to in findings.select(
        "subject_id", "person_id", "region_code", "period_from", "period_to"
    ).rows():
        ids = subject.split("|")
        assert len({(i[6:14], int(i[16]) % 2) for i in ids}) == 1 and len({i[:6] for i in ids}) >= 2
        spells = enrollment.filter(pl.col("person_id").is_in(ids))
        assert len({name_key(n) for n in spells["name"]}) == 1
        first = spells.group_by("person_id").agg(pl.col("start_date").min()).sort("start_date", "person_id")
        assert person == first["person_id"][0]
        paid = pensions.filter(pl.col("person_id").is_in(ids))
        shared = paid.group_by("period").agg(pl.col("person_id").n_unique().alias("n")).filter(pl.col("n") > 1)
        assert (str(shared["period"].min()), str(shared["period"].max())) == (p_from, p_to)
        last = paid.filter((pl.col("person_id") == person) & pl.col("period").is_in(shared["period"].to_list()))
        assert last.sort("period", "payment_id")["region_code"][-1] == region
        accounts = paid.group_by("person_id").agg(pl.col("bank_account").first())["bank_account"]
        assert accounts.n_unique() == len(ids)
    names = load(clean_inbox, "enrollment").filter(
        pl.col("person_id").is_in([i for s in findings["subject_id"] for i in s.split("|")])
    )["name"]
    assert names.str.contains(" ").any() and names.str.contains("\u3000").any()


def test_prisoner_and_pensioner_periods(clean_inbox: Path) -> None:
    """period_from / period_to of PRISONER_PAID and UNEMP_WITH_PENSION: the first and last flagged period."""
    d = {name: load(clean_inbox, name) for name in ("benefit_payments", "custody_records")}
    pay = d["benefit_payments"]
    pensions = pay.filter(pl.col("benefit_type") == "pension")
    held = pensions.join(d["custody_records"].filter(pl.col("sentence_type").is_in(STOPPING)), on="person_id").filter(
        (pl.col("period") > ym(pl.col("start_date")))
        & (pl.col("end_date").is_null() | (pl.col("period") < ym(pl.col("end_date"))))
    )
    both = pay.filter(pl.col("benefit_type") == "unemployment").join(
        pensions.select("person_id", "period").unique(), on=["person_id", "period"], how="semi"
    )
    findings = truth(clean_inbox, "findings")
    for rule, flagged in (("PRISONER_PAID", held), ("UNEMP_WITH_PENSION", both)):
        got = flagged.group_by("person_id").agg(
            pl.col("period").min().cast(pl.String).alias("period_from"),
            pl.col("period").max().cast(pl.String).alias("period_to"),
            pl.col("region_code").sort_by("period", "payment_id").last(),
        )
        want = findings.filter(pl.col("rule") == rule).select("person_id", "period_from", "period_to", "region_code")
        assert set(got.rows()) == set(want.rows()), rule


def test_planted_counts_follow_the_size_and_are_deterministic(tmp_path: Path) -> None:
    from pipelines.synth.plants import plants_per_rule
    from pipelines.synth.writer import BAD_KINDS

    first = generate(500, tmp_path / "a", seed=5, dirty=True)
    again = generate(500, tmp_path / "b", seed=5, dirty=True)
    other = generate(500, tmp_path / "c", seed=6, dirty=True)
    assert first == again
    for name in ("findings", "resolutions", "bad_rows", "near_misses", "valid_rows"):
        assert truth(tmp_path / "a", name).equals(truth(tmp_path / "b", name)), name
    n = plants_per_rule(500)
    for summary in (first, other):
        assert summary["findings"]["PRISONER_PAID"] == max(n, 6) + 1
        assert summary["findings"]["UNEMP_WITH_PENSION"] == max(n, 3) + 1
        assert summary["findings"]["DUP_IDENTITY"] == max(n, 2)
        generic = sum(
            k == "bad_id"
            for d in ("benefit_payments", "medical_claims", "payroll_withholding", "death_records", "custody_records")
            for k, _ in BAD_KINDS[d]
        )
        assert summary["resolutions"] == {"resolved": 9, "no_candidate": 2 + generic, "ambiguous": 4}
    assert first["findings"] == other["findings"]
    assert (
        truth(tmp_path / "a", "findings")["subject_id"].to_list()
        != truth(tmp_path / "c", "findings")["subject_id"].to_list()
    )
