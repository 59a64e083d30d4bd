"""Writing one dataset as several inbox files, with file-level dirt, bad rows and id-form truth.

A dataset frame arrives canonical and typed (dates as Date, periods as Int32
YYYYMM, money as Int64 fen).  ``split`` cuts it into files (per region, quarter,
month ...), ``FileStyle`` decides deterministically how each file looks
(format, encoding, header language, column order, value dirt), and
``write_file`` renders and writes it, returning what the truth must know.

Planted mistyped IDs (CONTRACT section 6) arrive as rows with two more columns:
``_raw_id`` (the ID as typed) and ``_outcome`` (``resolved``, ``no_candidate``,
``ambiguous``); a resolved row's ``person_id`` is the person it resolves to.  In a
dirty inbox they are written as typed, are bad rows and have a resolution truth;
a clean inbox has the resolved ones with their canonical ID and not the others.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import xlsxwriter

from .constants import COMMUNITY_SENTENCES, DATASETS, OUTCOME, RAW_ID, RESOLVING_DATASETS, ROW_ID, YEAR, Col
from .dirt import money_canonical, render_code, render_date, render_id, render_money, render_period
from .ids import IdSet, unresolvable, wrong_check_expr
from .population import BORN
from .rng import Rng

XLSX_MAX_ROWS = 20_000
ID_FORM_SAMPLE = 200
FIXED_TIME = dt.datetime(YEAR + 1, 1, 1)
EXTRA_COLUMN = {False: "remark", True: "备注"}

UNKNOWN_CODES = {
    "scheme": "999",
    "benefit_type": "bonus",
    "stage": "sign",
    "role": "boss",
    "account_type": "savings",
    "direction": "sideways",
    "disbursement_status": "pending",
    "death_source": "rumor",
    "sentence_type": "parole",
}
BAD_DATES = ("2025-13-45", "not a date", "2025/02/30")
BAD_PERIODS = ("2025-13", "2025年13月", "20251")

# Bad-row kinds per dataset: (kind, column).  Each is planted once per dirty inbox.
BAD_KINDS: dict[str, list[tuple[str, str]]] = {
    "enrollment": [
        ("bad_date", "start_date"),
        ("bad_id", "person_id"),
        ("missing_required", "name"),
        ("unknown_code", "scheme"),
    ],
    "contributions": [("missing_required", "amount_due"), ("unknown_code", "scheme"), ("bad_date", "period")],
    "benefit_payments": [
        ("bad_date", "period"),
        ("bad_id", "person_id"),
        ("negative_amount", "amount"),
        ("missing_required", "bank_account"),
        ("unknown_code", "benefit_type"),
    ],
    "medical_claims": [("bad_date", "service_date"), ("bad_id", "person_id"), ("missing_required", "hospital_id")],
    "business_log": [("unknown_code", "stage"), ("missing_required", "operator_id")],
    "operators": [("unknown_code", "role"), ("missing_required", "role")],
    "tax_collections": [("missing_required", "amount_collected"), ("unknown_code", "scheme"), ("bad_date", "period")],
    "payroll_withholding": [("bad_id", "person_id"), ("missing_required", "wage_income"), ("bad_date", "period")],
    "fund_accounts": [("unknown_code", "account_type"), ("missing_required", "account_no")],
    "finance_ledger": [
        ("bad_date", "entry_date"),
        ("negative_amount", "amount"),
        ("unknown_code", "direction"),
        ("missing_required", "account_no"),
    ],
    "bank_statements": [
        ("bad_date", "txn_date"),
        ("negative_amount", "amount"),
        ("unknown_code", "direction"),
        ("missing_required", "account_no"),
    ],
    "bank_disbursements": [("unknown_code", "status"), ("missing_required", "bank_account")],
    "death_records": [("bad_date", "death_date"), ("bad_id", "person_id"), ("unknown_code", "source")],
    "custody_records": [
        ("bad_date", "start_date"),
        ("bad_id", "person_id"),
        ("unknown_code", "sentence_type"),
        ("missing_required", "sentence_type"),
    ],
}


@dataclass(frozen=True)
class FileStyle:
    """How one file looks; all choices derive from the file's global index."""

    fmt: str = "csv"  # csv | parquet | xlsx
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | gb18030
    chinese: bool = False
    pad: bool = False
    shuffle: bool = False
    extra: bool = False
    quote_all: bool = False
    value_dirt: bool = False
    money_float: bool = False
    period_int: bool = False

    @property
    def suffix(self) -> str:
        return {"csv": ".csv", "parquet": ".parquet", "xlsx": ".xlsx"}[self.fmt]


CLEAN = FileStyle()


def style_for(g: int, rows: int, dirty: bool) -> FileStyle:
    """Round-robin over the dirt variants so that every variant appears in a modest inbox."""
    if not dirty:
        return CLEAN
    if rows <= XLSX_MAX_ROWS and g % 6 == 2:
        fmt = "xlsx"
    elif g % 5 == 4:
        fmt = "parquet"
    else:
        fmt = "csv"
    return FileStyle(
        fmt=fmt,
        encoding=("utf-8", "utf-8-sig", "gb18030")[g % 3],
        chinese=(g // 3) % 2 == 1,
        pad=fmt != "parquet" and g % 4 == 1,
        shuffle=g % 2 == 0,
        extra=g % 5 == 0,
        quote_all=g % 7 == 3,
        value_dirt=g % 4 != 3,
        money_float=g % 2 == 1,
        period_int=fmt != "csv" and g % 3 != 0,
    )


# ---- splitting ------------------------------------------------------------------------


def _quarter(e: pl.Expr) -> pl.Expr:
    return pl.lit(f"{YEAR}Q") + ((e.dt.month() - 1) // 3 + 1).cast(pl.String)


SPLIT_KEYS: dict[str, tuple[str, pl.Expr]] = {
    "enrollment": ("enr", pl.col("region_code")),
    "contributions": ("contrib", pl.col("employer_id").str.slice(2, 6)),
    "tax_collections": ("tax", pl.col("employer_id").str.slice(2, 6)),
    "benefit_payments": (
        "bp",
        pl.col("region_code") + "_" + pl.lit(f"{YEAR}Q") + ((pl.col("period") % 100 - 1) // 3 + 1).cast(pl.String),
    ),
    "medical_claims": ("mc", pl.col("region_code")),
    "business_log": ("bl", pl.col("operated_at").dt.strftime("%Y%m")),
    "operators": ("operators", pl.when(pl.col("region_code") < "330600").then(pl.lit("a")).otherwise(pl.lit("b"))),
    "payroll_withholding": ("pw", pl.col("period").cast(pl.String)),
    "fund_accounts": (
        "fa",
        pl.when(pl.col("account_type") == "special").then(pl.lit("special")).otherwise(pl.lit("regional")),
    ),
    "finance_ledger": ("fl", _quarter(pl.col("entry_date"))),
    "bank_statements": ("bs", _quarter(pl.col("txn_date"))),
    "bank_disbursements": ("bd", _quarter(pl.col("settled_date"))),
    "death_records": ("dr", pl.col("source")),
    # community corrections (社区矫正: 缓刑, 管制) come from the courts, the rest from the prisons
    "custody_records": (
        "cr",
        pl.when(pl.col("sentence_type").is_in(COMMUNITY_SENTENCES))
        .then(pl.lit("community"))
        .otherwise(pl.lit("prison")),
    ),
}


def split(dataset: str, df: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """The files of a dataset: (stem, rows), sorted by stem."""
    prefix, key = SPLIT_KEYS[dataset]
    parts = df.with_columns(key.alias("_file")).partition_by("_file", as_dict=True, maintain_order=True)
    return sorted((f"{prefix}_{k[0]}", part.drop("_file")) for k, part in parts.items())


# ---- bad rows -------------------------------------------------------------------------


@dataclass
class FileResult:
    """What writing one file tells the truth."""

    path: str
    rows_valid: int
    rows_resolved: int = 0
    bad_rows: list[dict] = field(default_factory=list)
    id_forms: list[dict] = field(default_factory=list)
    resolutions: list[dict] = field(default_factory=list)


def make_bad_rows(
    df: pl.DataFrame,
    dataset: str,
    kinds: list[tuple[str, str]],
    rng: Rng,
    stream: str,
    taken: IdSet | frozenset[str] = frozenset(),
) -> tuple[pl.DataFrame, list[tuple[str, str, int]]]:
    """Copies of valid rows, each with one field broken, a fresh row id, and a position to insert at.

    Returns the typed bad rows and (kind, column, position) for each.  bad_date is
    patched later, in the rendered text.  A bad ID in a dataset whose mistyped IDs are
    resolved (CONTRACT section 6) is one no ID of `taken` (every ID of the province) is
    one edit away from, so it stays unresolved; a planted typo is never copied.
    """
    py = rng.py(stream)
    cols = {c.name: c for c in DATASETS[dataset]}
    plain = df.with_row_index("_i").filter(pl.col(RAW_ID).is_null())["_i"] if RAW_ID in df.columns else None
    rows, meta = [], []
    for k, (kind, column) in enumerate(kinds):
        pick = py.randrange(df.height if plain is None else plain.len())
        src = df.slice(pick if plain is None else plain[pick], 1)
        rid = ROW_ID[dataset]
        if rid is not None:
            src = src.with_columns((pl.col(rid) + pl.lit(f"Q{k + 1}")).alias(rid))
        c = pl.col(column)
        if kind == "bad_id" and dataset in RESOLVING_DATASETS:
            src = src.with_columns(pl.lit(unresolvable(src[column][0], taken, py, BORN)).alias(column))
        elif kind == "bad_id":
            src = src.with_columns(wrong_check_expr(c).alias(column))
        elif kind == "negative_amount":
            src = src.with_columns((-c).alias(column))
        elif kind == "missing_required":
            src = src.with_columns(pl.lit(None, dtype=src.schema[column]).alias(column))
        elif kind == "unknown_code":
            src = src.with_columns(pl.lit(UNKNOWN_CODES[cols[column].codes]).alias(column))
        rows.append(src)
        meta.append((kind, column, py.randrange(df.height + 1)))
    return pl.concat(rows), meta


def insert_rows(df: pl.DataFrame, bad: pl.DataFrame, positions: list[int]) -> tuple[pl.DataFrame, list[int]]:
    """Insert bad rows before the given valid-row positions; returns the frame and their final indices."""
    order = sorted(range(len(positions)), key=lambda i: (positions[i], i))
    parts, final, prev = [], [0] * len(positions), 0
    for shift, i in enumerate(order):
        pos = positions[i]
        parts.append(df.slice(prev, pos - prev))
        parts.append(bad.slice(i, 1))
        final[i] = pos + shift
        prev = pos
    parts.append(df.slice(prev))
    return pl.concat(parts), final


# ---- rendering ------------------------------------------------------------------------


def render_text(df: pl.DataFrame, dataset: str, style: FileStyle, rng: Rng, stream: str) -> pl.DataFrame:
    """Every column as text, in the file's value forms (CSV)."""
    n = df.height
    exprs = []
    for c in DATASETS[dataset]:
        col = pl.col(c.name)
        u = pl.lit(rng.uniform(f"{stream}:{c.name}", n)) if style.value_dirt else pl.lit(1.0)
        exprs.append(_render_one(c, col, u, dataset).alias(c.name))
    return df.select(exprs)


def _render_one(c: Col, col: pl.Expr, u: pl.Expr, dataset: str) -> pl.Expr:
    if c.kind == "id":
        return render_id(col, u)
    if c.kind == "date":
        return render_date(col, u)
    if c.kind == "period":
        return render_period(col, u)
    if c.kind == "money":
        return render_money(col, u)
    if c.kind == "code":
        return render_code(col, u, c.codes, dataset)
    if c.kind == "timestamp":
        return col.dt.strftime("%Y-%m-%d %H:%M:%S")
    return col.cast(pl.String)


def render_typed(df: pl.DataFrame, dataset: str, style: FileStyle, rng: Rng, stream: str) -> pl.DataFrame:
    """Columns for Parquet/XLSX: native dates and numbers, text-typed ids and codes (possibly dirty)."""
    n = df.height
    exprs = []
    for c in DATASETS[dataset]:
        col = pl.col(c.name)
        u = pl.lit(rng.uniform(f"{stream}:{c.name}", n)) if style.value_dirt else pl.lit(1.0)
        if c.kind in ("id", "code"):
            e = _render_one(c, col, u, dataset)
        elif c.kind == "money":
            e = (
                (col.cast(pl.Float64) / 100)
                if style.money_float
                else (col.cast(pl.Decimal(18, 2)) / pl.lit(100).cast(pl.Decimal(18, 0))).cast(pl.Decimal(18, 2))
            )
        elif c.kind == "period":
            e = col if style.period_int else render_period(col, u)
        else:
            e = col
        exprs.append(e.alias(c.name))
    return df.select(exprs)


def finish_columns(out: pl.DataFrame, dataset: str, style: FileStyle, rng: Rng, stream: str) -> pl.DataFrame:
    """Extra column, shuffled order, Chinese or padded headers."""
    if style.extra:
        out = out.with_columns(pl.lit("").alias(EXTRA_COLUMN[style.chinese]))
        if out.height:
            out = out.with_columns(
                pl.when(pl.int_range(pl.len()) % 7 == 0)
                .then(pl.lit("补录"))
                .otherwise(pl.lit(""))
                .alias(EXTRA_COLUMN[style.chinese])
            )
    names = out.columns
    if style.shuffle:
        py = rng.py(f"{stream}:order")
        py.shuffle(names)
        out = out.select(names)
    zh = {c.name: c.zh for c in DATASETS[dataset]}
    header = {n: (zh.get(n, n) if style.chinese else n) for n in names}
    if style.pad:
        header = {n: f" {h} " if i % 2 == 0 else f"{h}  " for i, (n, h) in enumerate(header.items())}
    return out.rename(header)


def csv_bytes(out: pl.DataFrame, style: FileStyle) -> bytes:
    text = out.write_csv(quote_style="always" if style.quote_all else "necessary")
    if style.encoding == "gb18030":
        return text.encode("gb18030")
    if style.encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode("utf-8")


def xlsx_bytes(out: pl.DataFrame) -> bytes:
    """First sheet, header in row 1; dates as Excel dates, numbers as numbers, everything else text."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "in_memory": True})
    wb.set_properties({"created": FIXED_TIME, "author": "fundwatch synth"})
    ws = wb.add_worksheet("Sheet1")
    fmt_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    fmt_ts = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    fmt_money = wb.add_format({"num_format": "0.00"})
    for j, name in enumerate(out.columns):
        ws.write_string(0, j, name)
    dtypes = out.dtypes
    for i, row in enumerate(out.iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            dtype = dtypes[j]
            if dtype == pl.Date:
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), fmt_date)
            elif dtype == pl.Datetime:
                ws.write_datetime(i, j, v, fmt_ts)
            elif dtype == pl.Float64 or isinstance(dtype, pl.Decimal):
                ws.write_number(i, j, float(v), fmt_money)
            elif dtype.is_integer():
                ws.write_number(i, j, int(v))
            else:
                ws.write_string(i, j, str(v))
    wb.close()
    return buf.getvalue()


def parquet_bytes(out: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    out.write_parquet(buf, compression="zstd", statistics=False)
    return buf.getvalue()


def write_file(
    root: Path,
    dataset: str,
    stem: str,
    df: pl.DataFrame,
    style: FileStyle,
    rng: Rng,
    bad_kinds: list[tuple[str, str]],
    taken: IdSet | frozenset[str] = frozenset(),
) -> FileResult:
    """Render one file (with its bad rows and planted typos) and write it under root/dataset/."""
    stream = f"file:{dataset}:{stem}"
    rel = f"{dataset}/{stem}{style.suffix}"
    if style.fmt != "csv":
        bad_kinds = [k for k in bad_kinds if k[0] != "bad_date"]
    typos = df.filter(pl.col(RAW_ID).is_not_null()) if RAW_ID in df.columns else None
    n_typos = 0 if typos is None else typos.height
    n_resolved = 0 if typos is None else typos.filter(pl.col(OUTCOME) == "resolved").height
    result = FileResult(path=rel, rows_valid=df.height - n_typos, rows_resolved=n_resolved)
    canonical = df
    bad_meta: list[tuple[str, str, int]] = []
    if bad_kinds and df.height:
        bad, bad_meta = make_bad_rows(df, dataset, bad_kinds, rng, f"{stream}:bad", taken)
        canonical, finals = insert_rows(df, bad, [m[2] for m in bad_meta])
        bad_meta = [(k, c, f) for (k, c, _), f in zip(bad_meta, finals, strict=True)]
    typo_rows = (
        canonical.with_row_index("_i").filter(pl.col(RAW_ID).is_not_null()).select("_i", RAW_ID, OUTCOME, "person_id")
        if n_typos
        else None
    )
    if style.fmt == "csv":
        out = render_text(canonical, dataset, style, rng, stream)
        for i, (kind, column, idx) in enumerate(bad_meta):
            if kind == "bad_date":
                kind_col = {c.name: c.kind for c in DATASETS[dataset]}[column]
                value = (BAD_PERIODS if kind_col == "period" else BAD_DATES)[i % 3]
                out = out.with_columns(out[column].scatter(idx, value))
    else:
        out = render_typed(canonical, dataset, style, rng, stream)
    for kind, column, idx in bad_meta:
        if kind == "bad_id":  # keep the broken check digit visible: no 15-digit or other form
            out = out.with_columns(out[column].scatter(idx, canonical[column][idx]))
    result.bad_rows = [
        {"dataset": dataset, "file": rel, "line": idx + 2, "column": column, "kind": kind}
        for kind, column, idx in bad_meta
    ]
    names = canonical["name"] if "name" in canonical.columns else None
    if dataset in RESOLVING_DATASETS:
        result.resolutions = [
            {
                "dataset": dataset,
                "file": rel,
                "line": idx + 2,
                "person_id_raw": canonical["person_id"][idx],
                "expected": "",
                "outcome": "no_candidate",
                "name": names[idx] if names is not None else None,
            }
            for kind, _, idx in bad_meta
            if kind == "bad_id"
        ]
    typo_idx: set[int] = set()
    if typo_rows is not None:
        for idx, raw, outcome, person in typo_rows.iter_rows():
            out = out.with_columns(out["person_id"].scatter(idx, raw))  # as typed, in no other form
            typo_idx.add(idx)
            result.bad_rows.append(
                {"dataset": dataset, "file": rel, "line": idx + 2, "column": "person_id", "kind": "bad_id"}
            )
            result.resolutions.append(
                {
                    "dataset": dataset,
                    "file": rel,
                    "line": idx + 2,
                    "person_id_raw": raw,
                    "expected": person if outcome == "resolved" else "",
                    "outcome": outcome,
                    "name": names[idx] if names is not None else None,
                }
            )
    result.bad_rows.sort(key=lambda r: r["line"])
    result.resolutions.sort(key=lambda r: r["line"])
    result.id_forms = id_form_rows(canonical, out, dataset, rel, {m[2] for m in bad_meta} | typo_idx)
    out = finish_columns(out, dataset, style, rng, stream)
    data = {
        "csv": lambda: csv_bytes(out, style),
        "xlsx": lambda: xlsx_bytes(out),
        "parquet": lambda: parquet_bytes(out),
    }[style.fmt]()
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return result


def id_form_rows(canonical: pl.DataFrame, out: pl.DataFrame, dataset: str, rel: str, bad_idx: set[int]) -> list[dict]:
    """Rows whose person_id was written in a non-canonical form (a sample per file)."""
    if "person_id" not in canonical.columns:
        return []
    pairs = pl.DataFrame({"raw_id": out["person_id"], "canonical_id": canonical["person_id"]}).with_row_index("i")
    diff = pairs.filter((pl.col("raw_id") != pl.col("canonical_id")) & ~pl.col("i").is_in(list(bad_idx)))
    return [
        {"dataset": dataset, "file": rel, "line": r["i"] + 2, "raw_id": r["raw_id"], "canonical_id": r["canonical_id"]}
        for r in diff.head(ID_FORM_SAMPLE).iter_rows(named=True)
    ]


__all__ = ["BAD_KINDS", "CLEAN", "FileResult", "FileStyle", "money_canonical", "split", "style_for", "write_file"]
