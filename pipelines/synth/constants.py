"""Fixed facts of the synthetic province: year, regions, name lists, dataset columns.

The dataset column table is transcribed from CONTRACT.md section 2 on purpose
(not imported from ``schemas``): the generator is the test oracle of the
ingester, so it must not share its definitions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

YEAR = 2025
PERIODS: tuple[int, ...] = tuple(YEAR * 100 + m for m in range(1, 13))
YEAR_START = dt.date(YEAR, 1, 1)
YEAR_END = dt.date(YEAR, 12, 31)

PROVINCE_CODE = "330000"  # 浙江省; special accounts are kept at province level
# Pooling regions (统筹区): the eleven prefecture-level cities, with a population weight.
REGIONS: tuple[tuple[str, str, int], ...] = (
    ("330100", "杭州市", 20),
    ("330200", "宁波市", 15),
    ("330300", "温州市", 14),
    ("330400", "嘉兴市", 8),
    ("330500", "湖州市", 5),
    ("330600", "绍兴市", 8),
    ("330700", "金华市", 11),
    ("330800", "衢州市", 4),
    ("330900", "舟山市", 2),
    ("331000", "台州市", 10),
    ("331100", "丽水市", 3),
)
REGION_CODES: tuple[str, ...] = tuple(r[0] for r in REGIONS)
# Birth places (the division code an ID begins with), ten slots per pooling region: codes GB/T 2260 has
# listed, today's or abolished ones (330103 下城区, 330121 萧山县: an ID keeps the code of where it was
# issued); a region with fewer counties repeats some.
BIRTH_COUNTIES: dict[str, tuple[str, ...]] = {
    "330100": ("330102", "330103", "330105", "330106", "330108", "330110", "330121", "330122", "330181", "330182"),
    "330200": ("330202", "330203", "330205", "330206", "330211", "330212", "330221", "330222", "330281", "330282"),
    "330300": ("330302", "330303", "330305", "330304", "330324", "330326", "330321", "330322", "330381", "330382"),
    "330400": ("330402", "330411", "330424", "330483", "330423", "330425", "330421", "330422", "330481", "330482"),
    "330500": ("330502", "330503", "330523", "330511", "330502", "330503", "330521", "330522", "330523", "330511"),
    "330600": ("330602", "330603", "330604", "330624", "330683", "330623", "330621", "330622", "330681", "330682"),
    "330700": ("330702", "330703", "330723", "330726", "330727", "330783", "330721", "330722", "330781", "330782"),
    "330800": ("330802", "330803", "330824", "330825", "330823", "330802", "330821", "330822", "330881", "330803"),
    "330900": ("330902", "330903", "330902", "330903", "330921", "330922", "330921", "330922", "330902", "330903"),
    "331000": ("331002", "331003", "331004", "331023", "331024", "331083", "331021", "331022", "331081", "331082"),
    "331100": ("331102", "331123", "331124", "331125", "331126", "331127", "331121", "331122", "331181", "331102"),
}
BIRTH_COUNTY_SLOTS = 10

# The contract's large-payment threshold (LARGE_PAYMENT_UNAPPROVED), in fen.
LARGE_PAYMENT_FEN = 10_000_000

PENSION_SCHEMES = ("110", "120", "170")

# Employer + employee contribution rates in basis points, by scheme.
ENTERPRISE_RATES = {"110": 2400, "210": 150, "310": 950, "410": 40, "510": 80}
PUBLIC_RATES = {"120": 2400, "310": 950}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫浩宇轩然子涵梓欣雨晨思佳怡"
    "博文俊豪嘉琪一诺梦瑶晓东海波建国志红春梅国庆卫东丹丹婷婷雪莉建华永明立新金凤振华晓燕淑珍德胜文华"
)
BANKS = ("中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "浙江农商银行", "中国邮政储蓄银行")

# business_type by benefit family, for the business log.
BUSINESS_TYPES = (
    "养老金核定",
    "失业保险金申领",
    "丧葬补助金支付",
    "医疗费零星报销",
    "工伤待遇核定",
    "生育津贴支付",
    "参保登记变更",
    "基金支付审批",
)


@dataclass(frozen=True)
class Col:
    """One contract column: canonical name, Chinese header, kind, required flag, code set."""

    name: str
    zh: str
    kind: str  # id | text | code | date | period | money | int | timestamp
    required: bool = False
    codes: str | None = None


DATASETS: dict[str, tuple[Col, ...]] = {
    "enrollment": (
        Col("enrollment_id", "参保记录编号", "text", True),
        Col("person_id", "公民身份号码", "id", True),
        Col("name", "姓名", "text", True),
        Col("gender", "性别", "code", False, "gender"),
        Col("birth_date", "出生日期", "date"),
        Col("region_code", "统筹区编码", "text", True),
        Col("scheme", "险种类型", "code", True, "scheme"),
        Col("employer_id", "单位编号", "text"),
        Col("start_date", "参保开始日期", "date", True),
        Col("end_date", "参保终止日期", "date"),
    ),
    "contributions": (
        Col("employer_id", "单位编号", "text", True),
        Col("scheme", "险种类型", "code", True, "scheme"),
        Col("period", "费款所属期", "period", True),
        Col("amount_due", "应缴金额", "money", True),
        Col("headcount", "缴费人数", "int"),
    ),
    "benefit_payments": (
        Col("payment_id", "发放流水号", "text", True),
        Col("person_id", "公民身份号码", "id", True),
        Col("region_code", "统筹区编码", "text", True),
        Col("scheme", "险种类型", "code", True, "scheme"),
        Col("benefit_type", "待遇类型", "code", True, "benefit_type"),
        Col("period", "待遇所属期", "period", True),
        Col("amount", "发放金额", "money", True),
        Col("bank_account", "银行账号", "text", True),
        Col("pay_date", "发放日期", "date"),
        Col("batch_id", "发放批次号", "text"),
    ),
    "medical_claims": (
        Col("claim_id", "结算流水号", "text", True),
        Col("person_id", "公民身份号码", "id", True),
        Col("region_code", "统筹区编码", "text", True),
        Col("hospital_id", "定点医疗机构编码", "text", True),
        Col("invoice_no", "发票号码", "text", True),
        Col("service_date", "就诊日期", "date", True),
        Col("total_amount", "医疗费总额", "money", True),
        Col("fund_paid", "统筹基金支付", "money", True),
    ),
    "business_log": (
        Col("business_id", "业务流水号", "text", True),
        Col("business_type", "业务类型", "text"),
        Col("stage", "环节", "code", True, "stage"),
        Col("operator_id", "经办人编号", "text", True),
        Col("operated_at", "操作时间", "timestamp", True),
        Col("person_id", "公民身份号码", "id"),
        Col("amount", "金额", "money"),
    ),
    "operators": (
        Col("operator_id", "经办人编号", "text", True),
        Col("name", "姓名", "text"),
        Col("region_code", "统筹区编码", "text"),
        Col("role", "岗位类别", "code", True, "role"),
    ),
    "tax_collections": (
        Col("voucher_no", "税票号码", "text", True),
        Col("employer_id", "单位编号", "text", True),
        Col("scheme", "险种类型", "code", True, "scheme"),
        Col("period", "费款所属期", "period", True),
        Col("amount_collected", "实缴金额", "money", True),
        Col("collected_date", "入库日期", "date"),
    ),
    "payroll_withholding": (
        Col("employer_id", "扣缴单位编号", "text", True),
        Col("person_id", "公民身份号码", "id", True),
        Col("period", "所属期", "period", True),
        Col("wage_income", "工资薪金收入", "money", True),
    ),
    "fund_accounts": (
        Col("account_no", "账号", "text", True),
        Col("account_type", "账户类型", "code", True, "account_type"),
        Col("scheme", "险种类型", "code", False, "scheme"),
        Col("bank_name", "开户银行", "text"),
        Col("opened_date", "开户日期", "date"),
        Col("closed_date", "销户日期", "date"),
    ),
    "finance_ledger": (
        Col("entry_id", "凭证号", "text", True),
        Col("account_no", "账号", "text", True),
        Col("entry_date", "记账日期", "date", True),
        Col("direction", "收支方向", "code", True, "direction"),
        Col("amount", "金额", "money", True),
        Col("scheme", "险种类型", "code", False, "scheme"),
        Col("counterparty_account", "对方账号", "text"),
        Col("summary", "摘要", "text"),
    ),
    "bank_statements": (
        Col("txn_id", "交易流水号", "text", True),
        Col("account_no", "账号", "text", True),
        Col("txn_date", "交易日期", "date", True),
        Col("direction", "借贷方向", "code", True, "direction"),
        Col("amount", "金额", "money", True),
        Col("counterparty_account", "对方账号", "text"),
        Col("counterparty_name", "对方户名", "text"),
        Col("summary", "摘要", "text"),
    ),
    "bank_disbursements": (
        Col("payment_id", "发放流水号", "text", True),
        Col("bank_account", "银行账号", "text", True),
        Col("amount", "金额", "money", True),
        Col("status", "处理状态", "code", True, "disbursement_status"),
        Col("settled_date", "入账日期", "date"),
    ),
    "death_records": (
        Col("person_id", "公民身份号码", "id", True),
        Col("name", "姓名", "text"),
        Col("death_date", "死亡日期", "date", True),
        Col("source", "信息来源", "code", True, "death_source"),
    ),
    "custody_records": (
        Col("person_id", "公民身份号码", "id", True),
        Col("name", "姓名", "text"),
        Col("sentence_type", "刑罚类型", "code", True, "sentence_type"),
        Col("start_date", "收监日期", "date", True),
        Col("end_date", "释放日期", "date"),
    ),
}

# The unique row id of each dataset (bad rows get a fresh one); None = no single id.
ROW_ID: dict[str, str | None] = {
    "enrollment": "enrollment_id",
    "contributions": None,
    "benefit_payments": "payment_id",
    "medical_claims": "claim_id",
    "business_log": "business_id",
    "operators": "operator_id",
    "tax_collections": "voucher_no",
    "payroll_withholding": None,
    "fund_accounts": "account_no",
    "finance_ledger": "entry_id",
    "bank_statements": "txn_id",
    "bank_disbursements": "payment_id",
    "death_records": None,
    "custody_records": None,
}

# Custody that stops a pension (服刑期间停发基本养老金); a suspended sentence (缓刑) or surveillance (管制) does not.
STOPPING_SENTENCES = ("detention", "imprisonment", "life", "death_suspended")
COMMUNITY_SENTENCES = ("suspended", "surveillance")

# Datasets whose rows are resolved to an enrolled person when their only fault is a mistyped person_id
# (CONTRACT section 6); in those with a name, the enrolled name must be the same too.
RESOLVING_DATASETS = (
    "benefit_payments",
    "medical_claims",
    "payroll_withholding",
    "death_records",
    "custody_records",
    "business_log",
)
NAMED_DATASETS = ("death_records", "custody_records")
# Two more columns of a planted row whose person_id arrives mistyped: the ID as typed, and what resolving
# it must give (`resolved`: its person_id is the person it resolves to; `no_candidate`; `ambiguous`).
RAW_ID, OUTCOME = "_raw_id", "_outcome"
TYPO_COLUMNS = (RAW_ID, OUTCOME)
OUTCOMES = ("resolved", "no_candidate", "ambiguous")
