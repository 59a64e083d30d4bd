"""The evidence of a finding as an analyst reads it: the proving rows as tables, where each row came from.

`suspects.evidence_rows` is the JSON array a rule wrote (English keys, codes, text amounts; see
`pipelines.rules.common.evidence_rows`). `evidence_view` turns it into what an official can check:

* one table per source dataset (a reconciliation finding has rows of two: 缴费核定 and 社保费征收入库), its
  columns under the contract's Chinese names (`schemas.datasets`) with the English name beside them, codes
  with their labels (`110 企业职工基本养老保险`), money as exact text (`41,220.00`), regions named from GB/T 2260
  (`330102 杭州市上城区`), and the name of every person in the rows from `enrollment` (their latest spell) — or,
  for a person never enrolled, from a death notice, said as such (`韦勇（据死亡信息）`);
* for every row, the inbox file and line it was loaded from. The evidence JSON carries no lineage, so each
  row is looked up in its dataset table by its key (payment_id, claim_id, … or the finding's subject) and
  matched on every value it carries; the table's `source_file` / `source_line` are the answer. A row
  delivered in two files shows both; a row no longer in force (corrected or withdrawn since the finding was
  made) shows no source and the view says so in a note. A published file carries a copy of every row and name
  the evidence of its findings names (`pipelines.cases.lookup`, ADR 0021), which is searched instead of the
  whole datasets when present;
* IDs and accounts masked by the one policy (`pipelines.present.masking`) unless `reveal=True` — the caller
  records the reveal; names are not identifiers and are shown in full.

`person_summary` is the header of everything about one person: name, regions, and the datasets the
person appears in with row counts.

Everything here reads the published DuckDB file (`pipelines.warehouse.session.reader`) and renders
nothing: a table is a title, headers (Chinese, then the English name on a second line) with a `numeric`
flag, and rows of strings, ready for `pipelines.app.console.table`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import duckdb

from pipelines.present.labels import code_label, rule_label
from pipelines.present.masking import mask_account, mask_id, mask_text, shown_subject
from pipelines.present.money import fmt_money
from schemas.datasets import BY_NAME, DATASETS, Column
from schemas.divisions import region_label

NO_REGION = "未指定 none"
NOT_FOUND = "（未找到 not found）"
# The header of an evidence field no mapping names (a rule added a field): never expected, caught by the tests.
UNNAMED = "未命名列"

# Account columns: a bank account keeps its last 4 digits (`mask_account`).
ACCOUNT_COLUMNS = frozenset({"bank_account", "account_no", "counterparty_account"})
# Free text written by people, which may hold an ID or an account (`mask_text`; so is every field a rule derived).
FREE_TEXT_COLUMNS = frozenset({"summary", "counterparty_name", "business_type", "bank_name"})
NAME_HEADER = "姓名\nname"
SOURCE_FILE_HEADER = "来源文件\nsource_file"
SOURCE_LINE_HEADER = "行号\nsource_line"
# Parameters of one lookup query (a key condition each); a finding rarely has more rows than this.
LOOKUP_CHUNK = 200


class EvidenceNotFound(LookupError):
    """No finding of that suspect_id in the published file."""


@dataclass(frozen=True)
class EvidenceColumn:
    header: str  # "中文\nenglish", as `pipelines.app.console.Column.header`
    numeric: bool = False  # right-aligned


@dataclass(frozen=True, order=True)
class SourceRef:
    file: str  # the file in the inbox, as `ingested_files.file`: "<dataset>/<name>"
    line: int | None  # header = 1; the sheet row for XLSX; row index + 2 for Parquet
    # the citizen ID as the line has it, where it was mistyped and resolved to the row's person_id at load
    # (CONTRACT.md section 6: `person_id_raw` of a row with `id_resolved`)
    typed_id: str | None = None


@dataclass(frozen=True)
class EvidenceRow:
    cells: tuple[str, ...]
    sources: tuple[SourceRef, ...]  # empty: no row in force matches it
    key: str  # the value identifying the row in its file (payment_id, claim_id, employer_id …)


@dataclass(frozen=True)
class EvidenceTable:
    dataset: str
    title: str
    columns: tuple[EvidenceColumn, ...]
    records: tuple[EvidenceRow, ...]

    @property
    def rows(self) -> list[tuple[str, ...]]:
        """The cells of every row, for `console.table(columns, rows)`."""
        return [r.cells for r in self.records]


@dataclass(frozen=True)
class EvidenceView:
    suspect_id: str
    rule: str
    rule_label: str  # '死亡后继续领取 DECEASED_PAID'
    subject: str  # masked unless revealed
    person_id: str | None  # masked unless revealed
    name: str | None  # the person's name from enrollment (latest spell), in full; else from `name_source`
    name_source: str | None  # the dataset the name comes from: 'enrollment', 'death_records'; None: no name
    region_code: str | None
    region: str  # '330102 杭州市上城区'; an unknown code as it is; NO_REGION for none
    period: str | None  # '202503' or '202503–202508'
    amount_at_risk: str  # '41,220.00'
    summary: str  # masked unless revealed
    active: bool  # fired in the latest run
    tables: tuple[EvidenceTable, ...]
    notes: tuple[str, ...]
    revealed: bool

    def header_lines(self) -> list[str]:
        """The lines above the tables: what the finding is about, in Chinese with the English beside it."""
        lines = [
            f"疑点 finding: {self.suspect_id}  {self.rule_label}",
            f"对象 subject: {self.subject}",
        ]
        if self.person_id is not None:
            if self.name_source == "enrollment":
                who = self.name
            else:
                who = "（参保登记无此人 not in enrollment）"
                if self.name:
                    who = f"{self.name}（据{BY_NAME[str(self.name_source)].zh} per {self.name_source}）{who}"
            lines.append(f"人员 person: {who}  {self.person_id}")
        lines += [
            f"统筹区 region: {self.region}",
            *([f"所属期 period: {self.period}"] if self.period else []),
            f"涉及金额 amount at risk: {self.amount_at_risk} 元",
            f"摘要 summary: {self.summary}",
        ]
        if not self.active:
            lines.append("最近一次运行未再发现 not found by the latest run（证据为当时所记 evidence as then recorded）")
        if self.revealed:
            lines.append("未脱敏 unmasked: 本次按请求显示完整证件号和账号 full IDs and accounts shown on request")
        return lines


# --- where each rule's rows come from ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """How rows of one dataset appear in a rule's evidence.

    `key`: the dataset columns that find the row in its table (values from the row or from `context`).
    `renamed`: evidence field -> dataset column, where the rule named it otherwise.
    `context`: dataset column -> the part of the finding that holds it for every row ('person_id',
    'subject', or 'subject:<i>' for the i-th part of a `a|b|c` subject); shown in the header, not per row.
    `derived`: fields the rule computed (not columns of the dataset) -> (中文, kind).
    """

    dataset: str
    key: tuple[str, ...]
    renamed: Mapping[str, str] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    derived: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    """The sources of a rule's rows: one, or several told apart by the field `by` ('dataset', 'side')."""

    sources: Mapping[str, Source]
    by: str | None = None

    def source_of(self, row: Mapping[str, object]) -> Source | None:
        if self.by is None:
            return next(iter(self.sources.values()))
        return self.sources.get(str(row.get(self.by)))


_PERSON = {"person_id": "person_id"}
_PAYMENTS = Source("benefit_payments", ("payment_id",), context=_PERSON)
_STEPS = Source(
    "business_log",
    ("business_id",),
    context={"business_id": "subject"},
    derived={"role": ("岗位类别", "text")},  # the operator's role(s), already in Chinese (operators.role)
)
_LEDGER_LINE = {"line_id": "entry_id", "line_date": "entry_date", "memo": "summary"}
_BANK_LINE = {"line_id": "txn_id", "line_date": "txn_date", "memo": "summary"}
# A ledger or bank line: rivals matched elsewhere, and the near miss it pairs with (one movement booked late,
# pipelines/rules/recon_ledger_bank.py) — the other finding of the pair by its subject and suspect_id.
_LINE_DERIVED = {
    "matched_elsewhere": ("窗口内已与其他记录配对", "text"),
    "pair_key": ("疑似同一笔（超窗配对）", "text"),
    "paired_with": ("配对对象", "text"),
    "paired_suspect_id": ("配对疑点编号", "text"),
    "pair_gap_days": ("相差天数", "integer"),
}

ROUTES: dict[str, Route] = {
    "DUP_ENROLL": Route({"enrollment": Source("enrollment", ("enrollment_id",), context=_PERSON)}),
    "DUP_BENEFIT": Route({"benefit_payments": _PAYMENTS}),
    "DECEASED_PAID": Route({"benefit_payments": _PAYMENTS}),
    "UNEMP_WHILE_EMPLOYED": Route(
        {
            "benefit_payments": Source(
                "benefit_payments", ("payment_id",), context=_PERSON, derived={"grounds": ("就业依据", "text")}
            )
        }
    ),
    "DUP_CLAIM": Route(
        {"medical_claims": Source("medical_claims", ("claim_id",), derived={"role": ("认定（保留/重复）", "text")})}
    ),
    "SHARED_ACCOUNT": Route(
        {"benefit_payments": Source("benefit_payments", ("payment_id",), context={"bank_account": "subject"})}
    ),
    "RECON_CONTRIB": Route(
        {
            "contributions": Source(
                "contributions",
                ("employer_id", "scheme", "period"),
                renamed={"amount": "amount_due"},
                context={"employer_id": "subject:0", "scheme": "subject:1", "period": "subject:2"},
            ),
            "tax_collections": Source(
                "tax_collections",
                ("voucher_no",),
                renamed={"amount": "amount_collected"},
                context={"employer_id": "subject:0", "scheme": "subject:1", "period": "subject:2"},
            ),
        },
        by="dataset",
    ),
    "RECON_LEDGER_BANK": Route(
        {
            "ledger": Source("finance_ledger", ("entry_id",), renamed=_LEDGER_LINE, derived=_LINE_DERIVED),
            "bank": Source("bank_statements", ("txn_id",), renamed=_BANK_LINE, derived=_LINE_DERIVED),
        },
        by="side",
    ),
    "RECON_PAYMENT": Route(
        {
            "benefit_payments": Source("benefit_payments", ("payment_id",), renamed={"date": "pay_date"}),
            "bank_disbursements": Source("bank_disbursements", ("payment_id",), renamed={"date": "settled_date"}),
        },
        by="dataset",
    ),
    "UNREGISTERED_ACCOUNT": Route(
        {"bank_statements": Source("bank_statements", ("txn_id",), context={"account_no": "subject"})}
    ),
    "SOD_BREACH": Route({"business_log": _STEPS}),
    "LARGE_PAYMENT_UNAPPROVED": Route({"business_log": _STEPS}),
    # the pensions paid during custody, and the custody spells that stopped them
    "PRISONER_PAID": Route(
        {
            "benefit_payments": _PAYMENTS,
            "custody_records": Source("custody_records", ("person_id", "start_date"), context=_PERSON),
        },
        by="dataset",
    ),
    # the unemployment payments at risk and the pensions of the same months
    "UNEMP_WITH_PENSION": Route({"benefit_payments": _PAYMENTS}),
    # each ID's pensions in the months another ID of the same person is paid too: rows of several IDs
    "DUP_IDENTITY": Route({"benefit_payments": Source("benefit_payments", ("payment_id",))}),
}
DATASET_ORDER = {d.name: i for i, d in enumerate(DATASETS)}


def _source_of(rule: str, row: Mapping[str, object]) -> Source | None:
    """Where a row of a rule's evidence comes from: its route, or for a rule without one (added since) the
    dataset whose identifying first column the row carries and which holds most of its fields."""
    route = ROUTES.get(rule)
    if route is not None:
        return route.source_of(row)
    fits = [
        (sum(1 for c in d.columns if c.name in row), -DATASET_ORDER[d.name], d)
        for d in DATASETS
        if row.get(d.columns[0].name) is not None and d.columns[0].kind == "key"
    ]
    if not fits:
        return None
    spec = max(fits, key=lambda fit: fit[:2])[2]
    return Source(spec.name, (spec.columns[0].name,))


# --- the view ----------------------------------------------------------------------------------------------


def evidence_view(duck: duckdb.DuckDBPyConnection, suspect_id: str, *, reveal: bool = False) -> EvidenceView:
    """The finding `suspect_id` with its proving rows as tables (see the module docstring).

    `duck`: a read-only connection to the published file. Raises `EvidenceNotFound` for an unknown id.
    """
    found = duck.execute(
        "SELECT suspect_id, rule, subject_id, person_id, region_code, period_from, period_to, amount_at_risk, "
        "summary, evidence_rows, active FROM suspects WHERE suspect_id = ?",
        [suspect_id],
    ).fetchone()
    if found is None:
        raise EvidenceNotFound(f"没有这个疑点 no such finding: {suspect_id}")
    names = ("suspect_id", "rule", "subject_id", "person_id", "region_code", "period_from", "period_to")
    case = dict(zip((*names, "amount_at_risk", "summary", "evidence_rows", "active"), found, strict=True))

    notes: list[str] = []
    rows = _parse_rows(case["evidence_rows"], notes)
    grouped, sources, unrouted = _grouped(case, rows)
    notes += [f"无法判断来源的证据行 an evidence row of unknown source: {_masked_json(r, reveal)}" for r in unrouted]

    # The published file's lookup holds every row and name the evidence of its findings names (built at
    # publication, pipelines.cases.lookup); a file published without one is searched whole.
    within = LOOKUP_SCHEMA if has_lookup(duck) else None
    names_of = _names(duck, _persons(case, grouped), within=within)
    tables = []
    for dataset in sorted(grouped, key=DATASET_ORDER.__getitem__):
        table, missing = _table(duck, sources[dataset], grouped[dataset], case, names_of, reveal, within)
        tables.append(table)
        for record in table.records:
            for ref in record.sources:
                if ref.typed_id:
                    typed = ref.typed_id if reveal else mask_id(ref.typed_id)
                    notes.append(
                        f"{ref.file} 第 {ref.line} 行的公民身份号码录入为 {typed}（校验位错误），已按参保登记纠正 "
                        f"line {ref.line} of {ref.file}: the citizen ID was typed {typed} (wrong check digit) and "
                        "resolved against enrollment"
                    )
        if missing:
            notes.append(
                f"{BY_NAME[dataset].zh} {dataset}: {missing} 行在现行数据中已找不到（数据已更正或撤回），无来源 "
                f"{missing} row(s) no longer in force (corrected or withdrawn since): no source shown"
            )
    if not rows:
        notes.append("无证据行 no evidence rows")

    person = case["person_id"]
    period = _period(case["period_from"], case["period_to"])
    return EvidenceView(
        suspect_id=case["suspect_id"],
        rule=case["rule"],
        rule_label=rule_label(case["rule"]),
        subject=str(case["subject_id"]) if reveal else mask_text(shown_subject(case)),
        person_id=None if person is None else (person if reveal else mask_id(person)),
        name=names_of[person].name if person in names_of else None,
        name_source=names_of[person].dataset if person in names_of else None,
        region_code=case["region_code"],
        region=region_label(case["region_code"]) or NO_REGION,
        period=period,
        amount_at_risk=fmt_money(case["amount_at_risk"]),
        summary=(case["summary"] or "") if reveal else mask_text(case["summary"] or ""),
        active=bool(case["active"]),
        tables=tuple(tables),
        notes=tuple(notes),
        revealed=reveal,
    )


Row = dict[str, str | None]


def _grouped(case: Mapping[str, object], rows: list[Row]) -> tuple[dict[str, list[Row]], dict[str, Source], list[Row]]:
    """A finding's evidence rows by source dataset, the source of each dataset, and the rows of no known source."""
    grouped: dict[str, list[Row]] = {}
    sources: dict[str, Source] = {}
    unrouted: list[Row] = []
    for row in rows:
        source = _source_of(str(case["rule"]), row)
        if source is None:
            unrouted.append(row)
            continue
        grouped.setdefault(source.dataset, []).append(row)
        sources[source.dataset] = source
    return grouped, sources, unrouted


def _persons(case: Mapping[str, object], grouped: Mapping[str, list[Row]]) -> list[str]:
    """The persons a finding names: its own, then those of its evidence rows."""
    person_ids = [str(case["person_id"])] if case["person_id"] else []
    return person_ids + [str(r["person_id"]) for group in grouped.values() for r in group if r.get("person_id")]


def lookup_keys(
    case: Mapping[str, object],
) -> tuple[list[tuple[str, tuple[str, ...], tuple[str, ...]]], list[str]]:
    """What `evidence_view` looks up for a finding (a `suspects` row as a mapping, with rule, subject_id,
    person_id and evidence_rows): the (dataset, key columns, key values) of each evidence row whose key is
    complete, and the persons whose names it shows. Evidence that is not valid JSON names nothing."""
    text = case["evidence_rows"]
    grouped, sources, _ = _grouped(case, _parse_rows(text if isinstance(text, str) else None, []))
    keys: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    for dataset, rows in grouped.items():
        source = sources[dataset]
        context = _context(source, case)
        for row in rows:
            want = _expected(source, row, context)
            key = tuple(str(want[k]) for k in source.key if want.get(k))
            if len(key) == len(source.key):
                keys.append((dataset, source.key, key))
    return keys, _persons(case, grouped)


def _parse_rows(text: str | None, notes: list[str]) -> list[dict[str, str | None]]:
    if not text:
        return []
    try:
        rows = json.loads(text)
    except json.JSONDecodeError:
        notes.append("证据行无法解析 the evidence rows are not valid JSON")
        return []
    return [{k: None if v is None else str(v) for k, v in r.items()} for r in rows if isinstance(r, dict)]


def _period(first: str | None, last: str | None) -> str | None:
    if not first:
        return last
    return first if not last or last == first else f"{first}–{last}"


def _masked_json(row: Mapping[str, str | None], reveal: bool) -> str:
    text = json.dumps(row, ensure_ascii=False)
    return text if reveal else mask_text(text)


# --- one table ---------------------------------------------------------------------------------------------


def _table(
    duck: duckdb.DuckDBPyConnection,
    source: Source,
    rows: list[dict[str, str | None]],
    case: Mapping[str, object],
    names_of: Mapping[str, PersonName],
    reveal: bool,
    within: str | None = None,
) -> tuple[EvidenceTable, int]:
    """The table of one dataset's rows, and how many of them no row in force matches."""
    spec = BY_NAME[source.dataset]
    context = _context(source, case)
    hidden = {"dataset", "side"}
    fields: list[str] = []
    for row in rows:
        fields += [f for f in row if f not in fields and f not in hidden]
    # a field the rule fills for other datasets only (a payment's empty `status`) is not a column here
    fields = [f for f in fields if _column_of(source, f) is not None or any(r.get(f) is not None for r in rows)]

    expected = [_expected(source, row, context) for row in rows]
    located = _locate(duck, source, expected, within)

    # the name of each person beside their ID, where the rows name persons
    named = any(r.get(f) for r in rows for f in fields if source.renamed.get(f, f) == "person_id")
    columns: list[EvidenceColumn] = []
    for f in fields:
        column = _column_of(source, f)
        zh, kind, name = _describe(source, f, column)
        columns.append(EvidenceColumn(f"{zh}\n{name}", numeric=kind in ("money", "integer")))
        if name == "person_id" and named:
            columns.append(EvidenceColumn(NAME_HEADER))
    columns += [EvidenceColumn(SOURCE_FILE_HEADER), EvidenceColumn(SOURCE_LINE_HEADER, numeric=True)]

    records = []
    for row, want, refs in zip(rows, expected, located, strict=True):
        cells: list[str] = []
        for f in fields:
            column = _column_of(source, f)
            _, kind, name = _describe(source, f, column)
            cells.append(_cell(name, kind, column, row.get(f), reveal))
            if name == "person_id" and named:
                cells.append(names_of[row[f]].shown if row.get(f) in names_of else "")
        cells.append("；".join(r.file for r in refs) if refs else NOT_FOUND)
        cells.append("；".join(str(r.line) for r in refs) if refs else "—")
        records.append(EvidenceRow(tuple(cells), refs, str(want.get(source.key[0]) or "")))
    title = f"{spec.zh} {spec.name}（{len(rows)} 行 rows）"
    missing = sum(1 for refs in located if not refs)
    return EvidenceTable(source.dataset, title, tuple(columns), tuple(records)), missing


def _column_of(source: Source, field_name: str) -> Column | None:
    return _COLUMNS[source.dataset].get(source.renamed.get(field_name, field_name))


# Each dataset's columns by name: `_column_of` runs for every field of every evidence row (70k findings: 3 s
# when it searched the column list).
_COLUMNS: dict[str, dict[str, Column]] = {name: {c.name: c for c in spec.columns} for name, spec in BY_NAME.items()}


def _describe(source: Source, field_name: str, column: Column | None) -> tuple[str, str, str]:
    """(中文, kind, English name) of an evidence field in this source."""
    if column is not None:
        return column.zh, column.kind, column.name
    if field_name in source.derived:
        zh, kind = source.derived[field_name]
        return zh, kind, field_name
    return UNNAMED, "text", field_name


def _cell(name: str, kind: str, column: Column | None, value: str | None, reveal: bool) -> str:
    """One value as an official reads it."""
    if value is None or value == "":
        return ""
    if kind == "money":
        try:
            return fmt_money(Decimal(value))
        except InvalidOperation:
            return value
    if kind == "code" and column is not None and column.codes:
        return code_label(column.codes, value)
    if kind == "region":
        return region_label(value)
    if reveal:
        return value
    if kind == "id":
        return mask_id(value)
    if name in ACCOUNT_COLUMNS:
        return mask_account(value)
    if column is None or name in FREE_TEXT_COLUMNS:
        return mask_text(value)  # what a rule derived may quote anything
    return value


# --- where each row came from ------------------------------------------------------------------------------


def _context(source: Source, case: Mapping[str, object]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    subject = str(case["subject_id"])
    for column, where in source.context.items():
        if where == "subject":
            values[column] = subject
        elif where.startswith("subject:"):
            parts = subject.split("|")
            i = int(where.split(":", 1)[1])
            values[column] = parts[i] if i < len(parts) else None
        else:
            value = case.get(where)
            values[column] = None if value is None else str(value)
    return values


def _expected(source: Source, row: Mapping[str, str | None], context: Mapping[str, str | None]) -> dict:
    """The dataset columns a row in force must hold, as the evidence has them (text)."""
    want = {source.renamed.get(f, f): v for f, v in row.items() if _column_of(source, f) is not None}
    for column, value in context.items():
        want.setdefault(column, value)
    return want


def _locate(
    duck: duckdb.DuckDBPyConnection,
    source: Source,
    expected: Sequence[Mapping[str, str | None]],
    within: str | None = None,
) -> list[tuple[SourceRef, ...]]:
    """For each expected row, the file and line of the rows in force that hold every value it names (searched
    in the dataset's table, or in its copy in the lookup schema `within`, which holds every row a finding names).

    Rows identical in every named value (one row delivered in two files) share their matches: the n-th of
    them takes the n-th location, the last also any locations left over, so that no copy goes unseen.
    """
    spec = BY_NAME[source.dataset]
    kinds = {c.name: c.kind for c in spec.columns}
    keys = sorted({tuple(w.get(k) for k in source.key) for w in expected if all(w.get(k) for k in source.key)})
    candidates: list[dict] = []
    select = ", ".join(f'"{c.name}"' for c in spec.columns)
    if _has_column(duck, spec.name, within, "person_id_raw"):
        select += ", person_id_raw"
    condition = " AND ".join(f'"{k}" = ?' for k in source.key)
    table = _qualified(spec.name, within)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        # identifiers come from the fixed dataset spec; values are bound parameters
        if len(source.key) == 1:
            # One key column: a semi join on the list of keys (a hash join, one scan) instead of a chain of ORs
            # (a filter evaluated per key per row: 0.2-0.9 s on a 2.7M-row table of a 1M-person file).
            result = duck.execute(
                f"SELECT {select}, source_file, source_line FROM {table} AS t SEMI JOIN {_WANTED} "
                f'ON t."{source.key[0]}" = w.k ORDER BY source_file, source_line',
                [[key[0] for key in chunk]],
            )
        else:
            where = " OR ".join(f"({condition})" for _ in chunk)
            result = duck.execute(
                f"SELECT {select}, source_file, source_line FROM {table} WHERE {where} "
                "ORDER BY source_file, source_line",
                [v for key in chunk for v in key],
            )
        names = [d[0] for d in result.description]
        candidates += [dict(zip(names, r, strict=True)) for r in result.fetchall()]

    groups: dict[tuple, list[int]] = {}
    for i, want in enumerate(expected):
        groups.setdefault(tuple(sorted(want.items())), []).append(i)
    located: list[tuple[SourceRef, ...]] = [() for _ in expected]
    for signature, members in groups.items():
        want = dict(signature)
        matches = [
            SourceRef(c["source_file"], c["source_line"], c.get("person_id_raw"))
            for c in candidates
            if all(_same(kinds[k], c[k], v) for k, v in want.items())
        ]
        for n, i in enumerate(members):
            last = n == len(members) - 1
            located[i] = tuple(matches[n:] if last else matches[n : n + 1])
    return located


def _has_column(duck: duckdb.DuckDBPyConnection, table: str, schema: str | None, column: str) -> bool:
    """Whether the connected file's table has `column` (a file published before it was added has not)."""
    found = duck.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? "
        "AND table_name = ? AND column_name = ?",
        [schema or "main", table, column],
    ).fetchone()
    return bool(found and found[0])


def _same(kind: str, stored: object, text: str | None) -> bool:
    """Whether a stored value is the evidence's text rendering of it."""
    if stored is None or text is None:
        return stored is None and text is None
    if kind == "money":
        try:
            return Decimal(text) == stored
        except InvalidOperation:
            return False
    if kind == "timestamp" and isinstance(stored, dt.datetime):
        return stored.strftime("%Y-%m-%d %H:%M:%S") == text
    if kind == "date" and isinstance(stored, dt.date):
        return stored.isoformat() == text
    return str(stored) == text


# --- names and persons -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonName:
    name: str
    dataset: str  # where it was read: 'enrollment', or a notice about a person never enrolled

    @property
    def shown(self) -> str:
        """The name as a table cell: a name not from enrollment says where it comes from."""
        return self.name if self.dataset == "enrollment" else f"{self.name}（据{BY_NAME[self.dataset].zh}）"


# The published file's evidence lookup (built at every publication by pipelines.cases.lookup): for every finding
# of `suspects`, a copy of each dataset's rows its evidence names (same columns) and the names of the persons it
# names, small tables sorted by key, so that a case page reads a few blocks instead of scanning a dataset.
LOOKUP_SCHEMA = "evidence_lookup"
LOOKUP_NAMES = "person_names"


def has_lookup(duck: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connected file carries the evidence lookup (files published before it did not)."""
    found = duck.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? "
        "AND table_name = ?",
        [LOOKUP_SCHEMA, LOOKUP_NAMES],
    ).fetchone()
    return bool(found and found[0])


def _qualified(table: str, schema: str | None) -> str:
    """A table of the fixed spec, in `schema` or the default one (identifiers, never data)."""
    return f'"{table}"' if schema is None else f'"{schema}"."{table}"'


# The list of wanted keys (one bound parameter) as a relation to semi-join on: a hash join, one scan of the table,
# where `list_contains(?, col)` or a chain of ORs evaluates the list for every row.
_WANTED = "(SELECT unnest(?::VARCHAR[]) AS k) AS w"


def _names(
    duck: duckdb.DuckDBPyConnection, person_ids: Sequence[str], *, within: str | None = None
) -> dict[str, PersonName]:
    """person_id -> the name of their latest enrollment spell (latest start, then the larger enrollment_id);
    for a person never enrolled, the name on their earliest notice (a death notice) where one carries it.

    `within`: the lookup schema whose `person_names` holds these names for every person a finding names."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    if within is not None:
        rows = duck.execute(
            f"SELECT person_id, name, dataset FROM {_qualified(LOOKUP_NAMES, within)} AS t "
            f"SEMI JOIN {_WANTED} ON t.person_id = w.k",
            [wanted],
        ).fetchall()
        return {person: PersonName(name, dataset) for person, name, dataset in rows}
    rows = duck.execute(enrollment_names_sql(_WANTED), [wanted]).fetchall()
    found = {person: PersonName(name, "enrollment") for person, name in rows}
    return found | _notice_names(duck, [p for p in wanted if p not in found])


def _notice_names(duck: duckdb.DuckDBPyConnection, person_ids: Sequence[str]) -> dict[str, PersonName]:
    """person_id -> the name on their earliest notice (a death notice), for persons no enrollment row names."""
    found: dict[str, PersonName] = {}
    for dataset, order in NOTICES:
        missing = [p for p in person_ids if p not in found]
        if not missing:
            break
        rows = duck.execute(notice_names_sql(dataset, order, _WANTED), [missing]).fetchall()
        found |= {person: PersonName(name, dataset) for person, name in rows}
    return found


def enrollment_names_sql(wanted: str) -> str:
    """(person_id, name) of the latest enrollment spell naming each person of the relation `wanted` (alias w,
    column k)."""
    return (
        "SELECT person_id, arg_max(name, (start_date, enrollment_id)) AS name FROM enrollment AS t "
        f"SEMI JOIN {wanted} ON t.person_id = w.k WHERE name IS NOT NULL GROUP BY person_id"
    )


def notice_names_sql(dataset: str, order: str, wanted: str) -> str:
    """(person_id, name) of the earliest notice of `dataset` naming each person of `wanted` (identifiers from
    the fixed spec)."""
    return (
        f'SELECT person_id, arg_min(name, {order}) AS name FROM "{dataset}" AS t '
        f"SEMI JOIN {wanted} ON t.person_id = w.k WHERE name IS NOT NULL GROUP BY person_id"
    )


# Datasets besides enrollment that name a person, and the order in which their rows are taken (identifiers
# from the fixed spec): a death notice names the person as the police, civil affairs or health recorded them.
NOTICES = (("death_records", "(death_date, source)"),)


# The datasets holding a citizen ID `person_id`, in contract order, and those of them with a region.
PERSON_DATASETS = [d.name for d in DATASETS if any(c.name == "person_id" and c.kind == "id" for c in d.columns)]
REGION_DATASETS = [
    n for n in PERSON_DATASETS if any(c.name == "region_code" and c.kind == "region" for c in BY_NAME[n].columns)
]


def person_summary(
    duck: duckdb.DuckDBPyConnection,
    person_id: str,
    *,
    reveal: bool = False,
    spells: Sequence[tuple[str | None, str | None]] | None = None,
    counts: Mapping[str, int] | None = None,
    regions: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """Everything about one person in brief, for the header of `case list --person` and the person page.

    Returns {"person_id": shown (masked unless reveal), "name": latest enrollment name (never enrolled: the
    name on a death notice) or None, "name_source": the dataset of that name, "names": every enrollment name,
    latest first, "regions": ['330102 杭州市上城区', …] (enrollment first,
    then payments and claims), "datasets": [{"dataset", "zh", "rows"}, …] (only those holding the person)}.

    A caller that has read the person's rows already passes them, and they are not asked again: `spells`, the
    (name, region_code) of their enrollment rows latest start first (no start last), then the larger
    enrollment_id; `counts` (rows) and `regions` (distinct codes, sorted) by dataset.
    """
    if spells is None:
        spells = duck.execute(
            "SELECT name, region_code FROM enrollment WHERE person_id = ? "
            "ORDER BY start_date DESC NULLS LAST, enrollment_id DESC",
            [person_id],
        ).fetchall()
    names = list(dict.fromkeys(n for n, _ in spells if n))
    region_codes = list(dict.fromkeys(r for _, r in spells if r))
    for dataset in REGION_DATASETS:
        if dataset == "enrollment":
            continue
        found = (regions or {}).get(dataset)
        if found is None:  # identifiers from the fixed spec
            rows = duck.execute(
                f'SELECT DISTINCT region_code FROM "{dataset}" WHERE person_id = ? ORDER BY region_code', [person_id]
            ).fetchall()
            found = [r for (r,) in rows]
        region_codes += [r for r in found if r and r not in region_codes]
    datasets = []
    for dataset in PERSON_DATASETS:
        rows = (counts or {}).get(dataset)
        if rows is None:
            (rows,) = duck.execute(f'SELECT count(*) FROM "{dataset}" WHERE person_id = ?', [person_id]).fetchone()
        if rows:
            datasets.append({"dataset": dataset, "zh": BY_NAME[dataset].zh, "rows": int(rows)})
    # no enrollment row names the person (the spells just said so): only the notices are asked
    other = None if names else _notice_names(duck, [person_id]).get(person_id)
    return {
        "person_id": person_id if reveal else mask_id(person_id),
        "name": names[0] if names else (other.name if other else None),
        "name_source": "enrollment" if names else (other.dataset if other else None),
        "names": names,
        "region_codes": region_codes,
        "regions": [region_label(r) for r in region_codes],
        "datasets": datasets,
    }
