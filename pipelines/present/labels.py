"""The one table of status labels (Chinese beside the code), rule names and code labels.

A label is shown as "<中文> <code>" ("待核查 open"), so an official reads Chinese and the code is there
for anyone who searches the database for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.rules import BY_CODE, RULES
from schemas.datasets import code_sets


@dataclass(frozen=True)
class Status:
    code: str
    zh: str  # the short Chinese label, shown beside the code
    meaning: str | None = None  # a fuller sentence where the short label is terse (Chinese, then English)


def _table(*statuses: Status) -> dict[str, Status]:
    return {s.code: s for s in statuses}


# A case of the 四定一限 register (`cases.status`); overdue is derived, never stored.
CASE_STATUSES = _table(
    Status("open", "待核查"),
    Status("under_verification", "核查中"),
    Status("confirmed", "确认违规"),
    Status("partially_recovered", "部分追回", "部分追回 partially recovered: 已追回一部分，余额待追回或核销"),
    Status("dismissed", "排除"),
    Status("rectified", "已整改"),
    Status("overdue", "逾期"),
)
# A nightly run (`runs.status`).
RUN_STATUSES = _table(
    Status("running", "运行中"),
    Status("succeeded", "成功"),
    Status(
        "bad_input",
        "有隔离/拒收",
        "完成，但有隔离行或拒收文件 finished with quarantined rows or rejected files",
    ),
    Status("failed", "失败"),
)
# A delivered file (`ingested_files.status`).
FILE_STATUSES = _table(
    Status("loaded", "载入"),
    Status("skipped", "跳过"),
    Status("replaced", "替换"),
    Status("rejected", "拒收"),
    Status("withdrawn", "撤回", "撤回 withdrawn: its rows are no longer in force (fundwatch withdraw)"),
)

CASE_STATUS_ZH: dict[str, str] = {code: s.zh for code, s in CASE_STATUSES.items()}


def status_label(statuses: dict[str, Status], code: str) -> str:
    """'待核查 open'; an unknown code is shown as it is."""
    status = statuses.get(code)
    return f"{status.zh} {code}" if status else code


def status_meaning(statuses: dict[str, Status], code: str) -> str:
    """The fuller sentence of a status where there is one, else its label."""
    status = statuses.get(code)
    if status is not None and status.meaning:
        return status.meaning
    return status_label(statuses, code)


def case_status_label(status: str, overdue: bool = False) -> str:
    """A case's status as lists and checklists show it: '核查中 under_verification', '逾期 overdue（待核查 open）'."""
    shown = status_label(CASE_STATUSES, status)
    return f"{status_label(CASE_STATUSES, 'overdue')}（{shown}）" if overdue else shown


RULE_NAMES_ZH: dict[str, str] = {rule.code: rule.name_zh for rule in RULES}
# A case no nightly rule makes: a problem the monthly internal audit found (pipelines.cases.internal_audit).
RULE_NAMES_ZH["AUDIT_FINDING"] = "稽核发现问题"

# Pre-payment screening's reasons to hold a payment (CONTRACT.md section 7), in the contract's order (a held row
# lists its codes in it), with the Chinese an official reads: screening, its pages and the adjudication report.
SCREEN_REASON_ZH: dict[str, str] = {
    "INVALID": "数据无效",
    "DECEASED": "已死亡",
    "IN_CUSTODY": "服刑期间",
    "ALREADY_PAID": "重复发放",
    "EMPLOYED": "在职就业",
    "PENSIONER": "已领养老金",
    "SHARED_ACCOUNT": "多人共用账户",
    "BLACKLISTED": "黑名单",
    "UNKNOWN_PERSON": "无参保记录",
}
SCREEN_REASONS: tuple[str, ...] = tuple(SCREEN_REASON_ZH)
RULE_ORDER: dict[str, int] = {rule.code: i for i, rule in enumerate(RULES)}


def rule_name(code: str) -> str:
    """The Chinese name of a rule ('死亡后继续领取'); an unknown code is shown as it is."""
    return RULE_NAMES_ZH.get(code, code)


def rule_label(code: str) -> str:
    """'死亡后继续领取 DECEASED_PAID'."""
    if code in BY_CODE:
        return f"{BY_CODE[code].name_zh} {code}"
    return f"{RULE_NAMES_ZH[code]} {code}" if code in RULE_NAMES_ZH else code


def rule_sort_key(code: str) -> tuple[int, str]:
    """Rules in registry (contract) order, unknown codes last."""
    return (RULE_ORDER.get(code, len(RULE_ORDER)), code)


def code_label(code_set: str, code: str | None) -> str:
    """'110 企业职工基本养老保险' for a code of a code set (codes.yaml); '（空）' for none."""
    labels = code_sets().get(code_set, {}).get(code or "")
    return f"{code} {labels[0]}" if labels else (code or "（空）")
