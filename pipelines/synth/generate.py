"""The orchestrator: build the province, plant findings, write every dataset and the truth."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import polars as pl

from .background import (
    build_business_log,
    build_claims,
    build_contributions,
    build_custody,
    build_deaths,
    build_disbursements,
    build_enrollment,
    build_facts,
    build_payments,
    build_payroll,
    build_special_movements,
    build_tax,
)
from .batch import BATCH_DIR, BatchBuilder
from .constants import DATASETS, NAMED_DATASETS, OUTCOME, OUTCOMES, RAW_ID, SURNAMES, TYPO_COLUMNS
from .ids import IdSet, name_key, one_edit_away
from .plants import RULES, PlantBook, plant_all, plant_pool_size, plants_per_rule
from .population import build_employers, build_fund_accounts, build_operators, build_persons
from .rng import Rng
from .writer import BAD_KINDS, FileResult, parquet_bytes, split, style_for, write_file, xlsx_bytes

TRUTH = "_truth"
DTYPES = {
    "id": pl.String,
    "text": pl.String,
    "code": pl.String,
    "date": pl.Date,
    "period": pl.Int32,
    "money": pl.Int64,
    "int": pl.Int64,
    "timestamp": pl.Datetime("us"),
}
MIN_PERSONS = 500
# _truth/resolutions.csv: every row whose only fault is a mistyped person_id (CONTRACT section 6), with the
# person it must resolve to (or empty) and how many enrolled persons are one edit away (with the row's name).
RESOLUTION_SCHEMA = {
    "dataset": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "person_id_raw": pl.String,
    "expected": pl.String,
    "outcome": pl.String,
    "candidates": pl.Int64,
}


def schema(dataset: str) -> dict[str, pl.DataType]:
    return {c.name: DTYPES[c.kind] for c in DATASETS[dataset]}


# Identifier columns that get the part's tag when a province is generated in parts.
PART_TAGGED = (
    "enrollment_id",
    "employer_id",
    "payment_id",
    "bank_account",
    "batch_id",
    "claim_id",
    "invoice_no",
    "business_id",
    "operator_id",
    "voucher_no",
    "account_no",
    "counterparty_account",
    "entry_id",
    "txn_id",
)


def conform(dataset: str, df: pl.DataFrame, extra_rows: list[dict], part_tag: str = "") -> pl.DataFrame:
    """The background frame in contract column order and types, plus planted rows.

    `part_tag` (a part of a province generated in parts) is appended to every identifier
    of `PART_TAGGED`, so parts never share an account, an employer or a payment number.
    """
    sch = schema(dataset)
    base = df.select([pl.col(k).cast(v) for k, v in sch.items()])
    if any(RAW_ID in row for row in extra_rows):  # planted mistyped IDs (writer.py's module docstring)
        sch |= dict.fromkeys(TYPO_COLUMNS, pl.String)
        base = base.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in TYPO_COLUMNS)
    if extra_rows:
        base = pl.concat([base, pl.DataFrame(extra_rows, schema=sch, orient="row")])
    if part_tag:
        base = base.with_columns(pl.col(c) + part_tag for c in sch if c in PART_TAGGED)
    return base


class InboxWriter:
    """Writes datasets file by file and accumulates the truth about files."""

    def __init__(
        self, root: Path, rng: Rng, dirty: bool, stem_suffix: str = "", taken: IdSet | frozenset[str] = frozenset()
    ) -> None:
        self.root, self.rng, self.dirty, self.stem_suffix = root, rng, dirty, stem_suffix
        self.taken = taken  # every citizen ID of the province: bad IDs are made unresolvable against it
        self.results: list[tuple[str, FileResult]] = []
        self.rows: dict[str, int] = {}
        self.files: dict[str, int] = {}

    def write(self, dataset: str, df: pl.DataFrame) -> None:
        unresolved = (pl.col(OUTCOME) != "resolved").fill_null(False)  # a planted typo that must not resolve
        if RAW_ID in df.columns and not self.dirty:  # a clean inbox: resolving typos typed right, no others
            df = df.filter(~unresolved).drop(TYPO_COLUMNS)
        # the rows the dataset holds once loaded: resolved typos too, the others only in quarantine
        self.rows[dataset] = df.filter(~unresolved).height if RAW_ID in df.columns else df.height
        files = [(stem + self.stem_suffix, part) for stem, part in split(dataset, df)]
        base = list(DATASETS).index(dataset) * 7
        kinds = BAD_KINDS[dataset] if self.dirty else []
        chosen = sorted({0, len(files) // 2})
        plan = {chosen[0]: kinds[0::2], chosen[-1]: kinds[1::2]} if len(chosen) == 2 else {0: kinds}
        for j, (stem, part) in enumerate(files):
            style = style_for(base + j, part.height, self.dirty)
            result = write_file(self.root, dataset, stem, part, style, self.rng, plan.get(j, []), self.taken)
            self.results.append((dataset, result))
        self.files[dataset] = len(files)

    def truth_frames(self) -> dict[str, pl.DataFrame]:
        """valid_rows, bad_rows, id_forms and resolutions of the files written."""
        valid = [
            {
                "dataset": d,
                "file": r.path,
                "rows_valid": r.rows_valid,
                "rows_bad": len(r.bad_rows),
                "rows_resolved": r.rows_resolved,
            }
            for d, r in self.results
        ]
        bad = [b for _, r in self.results for b in r.bad_rows]
        forms = [f for _, r in self.results for f in r.id_forms]
        resolutions = [x for _, r in self.results for x in r.resolutions]
        return {
            "valid_rows": pl.DataFrame(
                valid,
                schema={
                    "dataset": pl.String,
                    "file": pl.String,
                    "rows_valid": pl.Int64,
                    "rows_bad": pl.Int64,
                    "rows_resolved": pl.Int64,
                },
            ),
            "resolutions": pl.DataFrame(resolutions, schema=RESOLUTION_SCHEMA | {"name": pl.String}),
            "bad_rows": pl.DataFrame(
                bad,
                schema={
                    "dataset": pl.String,
                    "file": pl.String,
                    "line": pl.Int64,
                    "column": pl.String,
                    "kind": pl.String,
                },
            ),
            "id_forms": pl.DataFrame(
                forms,
                schema={
                    "dataset": pl.String,
                    "file": pl.String,
                    "line": pl.Int64,
                    "raw_id": pl.String,
                    "canonical_id": pl.String,
                },
            ),
        }


def write_rejected(root: Path, rng: Rng, samples: dict[str, pl.DataFrame]) -> list[dict]:
    """Four files that cannot be read at all; their rows are copies no truth depends on."""
    py = random.Random(rng.seed * 7919 + 17)
    out = []

    def put(dataset: str, name: str, data: bytes, kind: str) -> None:
        (root / dataset).mkdir(parents=True, exist_ok=True)
        (root / dataset / name).write_bytes(data)
        out.append({"dataset": dataset, "file": f"{dataset}/{name}", "kind": kind})

    contrib = (
        samples["contributions"]
        .head(20)
        .drop("amount_due")
        .with_columns(pl.col("period").cast(pl.String), (pl.col("employer_id") + "R").alias("employer_id"))
    )
    put("contributions", "contrib_missing_column.csv", contrib.write_csv().encode(), "missing_required_column")
    garbage = b"\x00\x01\x02PK\x00" + bytes(py.randrange(256) for _ in range(4096)) + b"\x00" * 64
    put("bank_statements", "bs_export_corrupt.csv", garbage, "not_csv")
    claims = samples["medical_claims"].head(200).with_columns((pl.col("claim_id") + "T").alias("claim_id"))
    pq = parquet_bytes(claims)
    put("medical_claims", "mc_truncated.parquet", pq[: len(pq) // 2], "truncated_parquet")
    ops = samples["operators"].with_columns((pl.col("operator_id") + "T").alias("operator_id"))
    xl = xlsx_bytes(ops)
    put("operators", "operators_truncated.xlsx", xl[: len(xl) // 2], "truncated_xlsx")
    return out


def reset(out: Path) -> None:
    """Remove what a previous generation wrote here; refuse to touch a folder it did not write."""
    ours = (out / TRUTH / "summary.json").is_file()
    if not ours and any((out / name).exists() for name in DATASETS):
        raise FileExistsError(f"{out} holds dataset folders not written by the generator; choose an empty folder")
    for name in [*DATASETS, TRUTH, BATCH_DIR]:
        if (out / name).is_dir():
            shutil.rmtree(out / name)


# A province larger than this is generated in parts of at most this many persons, one after
# another, so the generator's memory stays that of one part (about 2.6 GB per million).
PART_PERSONS = 2_000_000


def generate(
    persons: int,
    out: Path,
    seed: int = 0,
    dirty: bool = True,
    part_persons: int = PART_PERSONS,
    batch: bool = False,
    finding_share: float | None = None,
) -> dict:
    """Write a synthetic inbox for ``persons`` persons under ``out`` and its truth under ``out/_truth``.

    Deterministic by ``seed``.  ``dirty=False`` writes plain UTF-8 CSV with English
    headers and canonical values, no bad rows and no rejected files; findings are
    planted either way.  Returns a summary (rows per dataset, findings per rule,
    bad rows, rejected files).

    More than ``part_persons`` persons are generated as independent parts (seeds derived
    from ``seed``): disjoint citizen IDs, identifiers tagged ``P<k>``, files suffixed
    ``_p<k>``; the truth is the parts' truths together (findings.csv gains a ``part``
    column; a finding's subject is as its part planted it, before the tag).  Parts draw
    names from disjoint surnames (no 一人多号 across parts), and a mistyped ID's candidates
    all lie in its own part (``ids.year_typos``), so the parts' truths stay true together.

    ``batch=True`` also writes a payment batch to screen, its truth and the blacklist it needs, and a few
    facts its plants need (``batch`` module); the rest is byte for byte what it is without.

    ``finding_share`` (a finding-dense inbox, a bad year: e.g. 0.07) plants findings for about that share of
    persons, spread evenly over the rules as the generator's own density (about 0.76%) is; the truth stays
    exact.  Without it the inbox is byte for byte what it always was.
    """
    if persons < MIN_PERSONS:
        raise ValueError(f"persons must be at least {MIN_PERSONS}")
    plants_per_rule(persons, finding_share)  # refuses a share out of range before anything is written
    out = Path(out)
    reset(out)
    (out / TRUTH).mkdir(parents=True, exist_ok=True)
    parts = max(1, -(-persons // part_persons))
    if parts > 10:
        raise ValueError(f"at most 10 parts of {part_persons} persons (the ID sequence space is split among them)")
    sizes = [persons // parts + (1 if k < persons % parts else 0) for k in range(parts)]
    outputs = []
    builder = BatchBuilder(seed, dirty) if batch else None
    for k, size in enumerate(sizes):
        if parts == 1:
            outputs.append(_province(size, out, seed, dirty, Rng(seed), batch=builder, finding_share=finding_share))
        else:
            span = 500 // parts
            rng = Rng(seed * 1000 + k + 1)
            outputs.append(
                _province(
                    size,
                    out,
                    seed,
                    dirty,
                    rng,
                    (k * span, span),
                    f"P{k}",
                    f"_p{k}",
                    k,
                    SURNAMES[k::parts],
                    builder,
                    finding_share,
                )
            )
    summaries = [o[0] for o in outputs]
    added = builder.finish(out) if builder is not None else None
    for name in ("valid_rows", "bad_rows", "id_forms", "near_misses", "resolutions"):
        frames = [o[1][name] for o in outputs] + ([added.valid_rows] if added and name == "valid_rows" else [])
        pl.concat(frames).write_csv(out / TRUTH / f"{name}.csv")
    findings = pl.concat([o[1]["findings"] for o in outputs])
    findings.write_csv(out / TRUTH / "findings.csv")
    rejected = write_rejected(out, Rng(seed), outputs[0][2]) if dirty else []
    pl.DataFrame(rejected, schema={"dataset": pl.String, "file": pl.String, "kind": pl.String}).write_csv(
        out / TRUTH / "rejected_files.csv"
    )

    def total(key: str) -> dict[str, int]:
        return {name: sum(s[key][name] for s in summaries) for name in summaries[0][key]}

    summary = {
        "persons": persons,
        "seed": seed,
        "dirty": dirty,
        "parts": parts,
        "rows": total("rows"),
        "files": total("files"),
        "findings": total("findings"),
        "near_misses": sum(s["near_misses"] for s in summaries),
        "bad_rows": sum(s["bad_rows"] for s in summaries),
        "id_forms": sum(s["id_forms"] for s in summaries),
        "resolutions": total("resolutions"),
        "rejected_files": len(rejected),
    }
    if finding_share is not None:  # only then: the generator's own inbox keeps its summary byte for byte
        summary["finding_share"] = finding_share
    if added is not None:
        for dataset, rows in added.rows.items():
            summary["rows"][dataset] += rows
            summary["files"][dataset] += 1
        summary["batch"] = added.summary
    (out / TRUTH / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return summary


def _province(
    persons: int,
    out: Path,
    seed: int,
    dirty: bool,
    rng: Rng,
    seq_range: tuple[int, int] = (0, 500),
    part_tag: str = "",
    stem_suffix: str = "",
    part: int | None = None,
    surnames: str = SURNAMES,
    batch: BatchBuilder | None = None,
    finding_share: float | None = None,
) -> tuple[dict, dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """One province (or one part of one): its files written, (summary, truth frames, samples) returned;
    `batch` plans its part of the payment batch and keeps the rows its truth needs."""
    people = build_persons(rng, persons, plant_pool_size(persons, finding_share), *seq_range, surnames)
    employers = build_employers(rng, persons)
    operators = build_operators(rng)
    accounts = build_fund_accounts(rng)
    facts = build_facts(rng, people, employers)
    book = PlantBook(rng, people, employers, operators, accounts, persons, seq_range, surnames)
    plant_all(book, persons, finding_share)
    if batch is not None:
        batch.plan(rng, facts, book, part_tag, first=not part)
    del people
    w = InboxWriter(out, rng, dirty, stem_suffix, book.taken)
    extra = book.rows
    samples: dict[str, pl.DataFrame] = {}
    enrolled = pl.DataFrame()

    def emit(dataset: str, df: pl.DataFrame) -> None:
        nonlocal enrolled
        full = conform(dataset, df, extra.get(dataset, []), part_tag)
        if dataset in ("contributions", "medical_claims", "operators"):
            samples[dataset] = full.drop(TYPO_COLUMNS, strict=False).head(200)
        if dataset == "enrollment":
            enrolled = full.select("person_id", "name").unique()
        if batch is not None:
            batch.observe(dataset, full)
        w.write(dataset, full)

    emit("enrollment", build_enrollment(facts))
    payments = build_payments(facts)
    emit("bank_disbursements", build_disbursements(rng, payments))
    emit("benefit_payments", payments)
    del payments
    payroll = build_payroll(rng, facts)
    contributions = build_contributions(payroll, employers)
    emit("payroll_withholding", payroll)
    del payroll
    emit("tax_collections", build_tax(rng, contributions))
    emit("contributions", contributions)
    del contributions
    emit("medical_claims", build_claims(rng, facts, persons))
    emit("business_log", build_business_log(rng, facts, max(200, persons // 5)))
    emit("operators", operators)
    emit("fund_accounts", accounts)
    ledger, bank = build_special_movements(rng, accounts, 1 + persons // 100_000)
    emit("finance_ledger", ledger)
    emit("bank_statements", bank)
    emit("death_records", build_deaths(rng, facts))
    emit("custody_records", build_custody(rng, facts))

    truth = w.truth_frames()
    planned = pl.DataFrame(
        book.typos,
        schema={"dataset": pl.String, "raw": pl.String, "expected": pl.String, "outcome": pl.String, "name": pl.String},
    )
    check_resolutions(planned.rename({"raw": "person_id_raw"}), enrolled)
    truth["resolutions"] = check_resolutions(truth["resolutions"], enrolled).drop("name")
    findings = book.findings_frame()
    if part is not None:
        findings = findings.with_columns(pl.lit(part).alias("part"))
    truth["findings"] = findings
    truth["near_misses"] = book.near_frame()
    per_rule = {r: 0 for r in RULES}
    for r in findings["rule"]:
        per_rule[r] += 1
    outcomes = truth["resolutions"]["outcome"].to_list()
    summary = {
        "rows": w.rows,
        "files": w.files,
        "findings": per_rule,
        "near_misses": len(book.near),
        "bad_rows": truth["bad_rows"].height,
        "id_forms": truth["id_forms"].height,
        "resolutions": {o: outcomes.count(o) for o in OUTCOMES},
    }
    return summary, truth, samples


def check_resolutions(typos: pl.DataFrame, enrolled: pl.DataFrame) -> pl.DataFrame:
    """typos (person_id_raw, dataset, name, expected, outcome) with `candidates`: how many enrolled persons
    have an ID one substitution or one adjacent swap away (CONTRACT section 6), with the row's name where
    the dataset carries one.  Raises when that contradicts the outcome or the expected person: the truth
    of a mistyped ID is computed, then checked against what the plant meant."""
    near = {raw: one_edit_away(raw) for raw in typos["person_id_raw"].unique().to_list()}
    names: dict[str, set[str]] = {}
    wanted = sorted(set().union(*near.values())) if near else []
    for pid, name in enrolled.filter(pl.col("person_id").is_in(wanted)).iter_rows():
        names.setdefault(pid, set()).add(name_key(name))
    counts = []
    for dataset, raw, name, expected, outcome in typos.select(
        "dataset", "person_id_raw", "name", "expected", "outcome"
    ).iter_rows():
        hits = sorted(
            pid for pid in near[raw] if pid in names and (dataset not in NAMED_DATASETS or name_key(name) in names[pid])
        )
        found = "no_candidate" if not hits else "resolved" if len(hits) == 1 else "ambiguous"
        if found != outcome or (found == "resolved" and hits != [expected]):
            raise RuntimeError(f"mistyped ID {raw} in {dataset}: planted {outcome} {expected}, candidates {hits}")
        counts.append(len(hits))
    return typos.with_columns(pl.Series("candidates", counts, dtype=pl.Int64))
