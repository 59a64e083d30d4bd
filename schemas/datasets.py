"""The fourteen inbox datasets of the data contract (CONTRACT.md section 2), as data.

This module is the single description of every dataset: its columns, their
Chinese header names, value types, which are required, which code set a code
column draws from and which value checks apply. Readers map headers with it,
normalisers pick their parser from it, the pandera schemas (`schemas.validation`)
and the DuckDB tables (`pipelines.warehouse.session`) are derived from it.

Value types (``Column.kind``):

* ``id``        canonical 18-character citizen ID (GB 11643)
* ``key``       an identifier that must compare exactly: full-width folded,
                all whitespace removed (account numbers, business ids)
* ``text``      free text: full-width ASCII folded, trimmed
* ``region``    6-digit administrative division code
* ``code``      a code of ``Column.codes`` (a set in ``codes.yaml``)
* ``date``      calendar date
* ``timestamp`` date and time
* ``period``    month, stored as text ``YYYYMM``
* ``money``     yuan with 2 exact decimals, DECIMAL(18,2)
* ``integer``   whole number

Each kind has one Polars type (`POLARS_TYPES`: the normalised frames, the pandera schemas) and one
DuckDB type (`DUCKDB_TYPES`: the dataset tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

CODES_FILE = Path(__file__).with_name("codes.yaml")


POLARS_TYPES: dict[str, pl.DataType] = {
    "id": pl.String(),
    "key": pl.String(),
    "text": pl.String(),
    "region": pl.String(),
    "code": pl.String(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
    "period": pl.String(),
    "money": pl.Decimal(18, 2),
    "integer": pl.Int64(),
}

DUCKDB_TYPES: dict[str, str] = {
    "id": "VARCHAR",
    "key": "VARCHAR",
    "text": "VARCHAR",
    "region": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "period": "VARCHAR",
    "money": "DECIMAL(18, 2)",
    "integer": "BIGINT",
}


# Where a date, timestamp or period may plausibly lie around the run's data date (`Column.window`): years
# before it and years after it, None taking the run's setting (`schemas.validation.DateWindow`: 80 back and 1
# ahead unless FUNDWATCH_PLAUSIBLE_YEARS_BACK / _AHEAD say otherwise). A value outside is quarantined.
# docs/adr/0012-plausible-values.md says why these.
WINDOWS: dict[str, tuple[int | None, int | None]] = {
    "event": (None, None),  # what happened or falls due: payments, claims, entries, periods, the start of a spell
    "past": (None, 0),  # cannot lie after the data date: a death
    "birth": (130, 0),  # a person's birth, also the one a citizen ID encodes
    "term": (None, 30),  # the end of a term, which may be set ahead: an enrollment's end, an account's closure
}


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    kind: str
    required: bool = False
    codes: str | None = None  # key into codes.yaml for kind == "code"
    positive: bool = False  # contract says "> 0"
    window: str = "event"  # a date, timestamp or period: where it may lie around the data date (`WINDOWS`)


@dataclass(frozen=True)
class Dataset:
    name: str
    zh: str
    source: str  # the delivering department, for data-quality reporting
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "enrollment",
        "参保登记",
        "agency",
        (
            C("enrollment_id", "参保记录编号", "key", True),
            C("person_id", "公民身份号码", "id", True),
            C("name", "姓名", "text", True),
            C("gender", "性别", "code", codes="gender"),
            C("birth_date", "出生日期", "date", window="birth"),
            C("region_code", "统筹区编码", "region", True),
            C("scheme", "险种类型", "code", True, codes="scheme"),
            C("employer_id", "单位编号", "key"),
            C("start_date", "参保开始日期", "date", True),
            C("end_date", "参保终止日期", "date", window="term"),
        ),
    ),
    Dataset(
        "contributions",
        "缴费核定",
        "agency",
        (
            C("employer_id", "单位编号", "key", True),
            C("scheme", "险种类型", "code", True, codes="scheme"),
            C("period", "费款所属期", "period", True),
            C("amount_due", "应缴金额", "money", True),
            C("headcount", "缴费人数", "integer"),
        ),
    ),
    Dataset(
        "benefit_payments",
        "待遇发放明细",
        "agency",
        (
            C("payment_id", "发放流水号", "key", True),
            C("person_id", "公民身份号码", "id", True),
            C("region_code", "统筹区编码", "region", True),
            C("scheme", "险种类型", "code", True, codes="scheme"),
            C("benefit_type", "待遇类型", "code", True, codes="benefit_type"),
            C("period", "待遇所属期", "period", True),
            C("amount", "发放金额", "money", True, positive=True),
            C("bank_account", "银行账号", "key", True),
            C("pay_date", "发放日期", "date"),
            C("batch_id", "发放批次号", "key"),
        ),
    ),
    Dataset(
        "medical_claims",
        "医保结算明细",
        "agency",
        (
            C("claim_id", "结算流水号", "key", True),
            C("person_id", "公民身份号码", "id", True),
            C("region_code", "统筹区编码", "region", True),
            C("hospital_id", "定点医疗机构编码", "key", True),
            C("invoice_no", "发票号码", "text", True),
            C("service_date", "就诊日期", "date", True),
            C("total_amount", "医疗费总额", "money", True),
            C("fund_paid", "统筹基金支付", "money", True),
        ),
    ),
    Dataset(
        "business_log",
        "经办业务日志",
        "agency",
        (
            C("business_id", "业务流水号", "key", True),
            C("business_type", "业务类型", "text"),
            C("stage", "环节", "code", True, codes="stage"),
            C("operator_id", "经办人编号", "key", True),
            C("operated_at", "操作时间", "timestamp", True),
            C("person_id", "公民身份号码", "id"),
            C("amount", "金额", "money"),
        ),
    ),
    Dataset(
        "operators",
        "经办人员",
        "agency",
        (
            C("operator_id", "经办人编号", "key", True),
            C("name", "姓名", "text"),
            C("region_code", "统筹区编码", "region"),
            C("role", "岗位类别", "code", True, codes="role"),
        ),
    ),
    Dataset(
        "tax_collections",
        "社保费征收入库",
        "tax",
        (
            C("voucher_no", "税票号码", "key", True),
            C("employer_id", "单位编号", "key", True),
            C("scheme", "险种类型", "code", True, codes="scheme"),
            C("period", "费款所属期", "period", True),
            C("amount_collected", "实缴金额", "money", True),
            C("collected_date", "入库日期", "date"),
        ),
    ),
    Dataset(
        "payroll_withholding",
        "个税全员全额扣缴申报",
        "tax",
        (
            C("employer_id", "扣缴单位编号", "key", True),
            C("person_id", "公民身份号码", "id", True),
            C("period", "所属期", "period", True),
            C("wage_income", "工资薪金收入", "money", True),
        ),
    ),
    Dataset(
        "fund_accounts",
        "基金账户登记",
        "finance",
        (
            C("account_no", "账号", "key", True),
            C("account_type", "账户类型", "code", True, codes="account_type"),
            C("scheme", "险种类型", "code", codes="scheme"),
            C("bank_name", "开户银行", "text"),
            C("opened_date", "开户日期", "date"),
            C("closed_date", "销户日期", "date", window="term"),
        ),
    ),
    Dataset(
        "finance_ledger",
        "财政专户明细账",
        "finance",
        (
            C("entry_id", "凭证号", "key", True),
            C("account_no", "账号", "key", True),
            C("entry_date", "记账日期", "date", True),
            C("direction", "收支方向", "code", True, codes="direction"),
            C("amount", "金额", "money", True, positive=True),
            C("scheme", "险种类型", "code", codes="scheme"),
            C("counterparty_account", "对方账号", "key"),
            C("summary", "摘要", "text"),
        ),
    ),
    Dataset(
        "bank_statements",
        "银行对账单",
        "bank",
        (
            C("txn_id", "交易流水号", "key", True),
            C("account_no", "账号", "key", True),
            C("txn_date", "交易日期", "date", True),
            C("direction", "借贷方向", "code", True, codes="direction"),
            C("amount", "金额", "money", True, positive=True),
            C("counterparty_account", "对方账号", "key"),
            C("counterparty_name", "对方户名", "text"),
            C("summary", "摘要", "text"),
        ),
    ),
    Dataset(
        "bank_disbursements",
        "代发回盘",
        "bank",
        (
            C("payment_id", "发放流水号", "key", True),
            C("bank_account", "银行账号", "key", True),
            C("amount", "金额", "money", True),
            C("status", "处理状态", "code", True, codes="disbursement_status"),
            C("settled_date", "入账日期", "date"),
        ),
    ),
    Dataset(
        "death_records",
        "死亡信息",
        "departments",
        (
            C("person_id", "公民身份号码", "id", True),
            C("name", "姓名", "text"),
            C("death_date", "死亡日期", "date", True, window="past"),
            C("source", "信息来源", "code", True, codes="death_source"),
        ),
    ),
    Dataset(
        "custody_records",
        "服刑人员信息",
        "departments",
        (
            C("person_id", "公民身份号码", "id", True),
            C("name", "姓名", "text"),
            C("sentence_type", "刑罚类型", "code", True, codes="sentence_type"),
            C("start_date", "收监日期", "date", True),
            C("end_date", "释放日期", "date", window="term"),
        ),
    ),
)

BY_NAME: dict[str, Dataset] = {d.name: d for d in DATASETS}


@cache
def code_sets() -> dict[str, dict[str, tuple[str, ...]]]:
    """Code sets from codes.yaml: set name -> code -> Chinese labels."""
    raw = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    return {
        name: {str(code): tuple(str(label) for label in labels) for code, labels in codes.items()}
        for name, codes in raw.items()
    }
