"""SOD_BREACH: two stages by one operator, admins at any stage, unknown operators."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

P = "11010519491231002X"
OPERATORS = [
    {"operator_id": "OP01", "region_code": "330100", "role": "business"},
    {"operator_id": "OP02", "region_code": "330100", "role": "business"},
    {"operator_id": "OP03", "region_code": "330200", "role": "business"},
    {"operator_id": "LD01", "region_code": "330100", "role": "leader"},
    {"operator_id": "AD01", "region_code": "330300", "role": "admin"},
]


def step(stage, operator, at="2025-03-05 09:00:00", business="YW1", amount="1000.00", person=None):
    return {
        "business_id": business,
        "business_type": "养老金核定",
        "stage": stage,
        "operator_id": operator,
        "operated_at": at,
        "person_id": person,
        "amount": amount,
    }


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        # the same operator at the same stage twice: no breach
        ([step("accept", "OP01"), step("accept", "OP01", "2025-03-05 10:00:00"), step("review", "OP02")], {}),
        # two stages by two operators: no breach
        ([step("accept", "OP01"), step("review", "OP02"), step("approve", "LD01")], {}),
        # one operator accepted and reviewed: breach
        ([step("accept", "OP01"), step("review", "OP01"), step("approve", "LD01")], {"YW1": Decimal("1000.00")}),
        # an admin doing a single stage: breach
        ([step("accept", "OP01"), step("recheck", "AD01")], {"YW1": Decimal("1000.00")}),
        # an operator not in operators: role unknown, not admin; two stages by them still a breach
        (
            [
                step("accept", "XX99"),
                step("review", "OP02"),
                step("accept", "XX99", business="YW2"),
                step("pay", "XX99", business="YW2"),
            ],
            {"YW2": Decimal("1000.00")},
        ),
        # the business amount is the largest amount of its rows; none at all is 0.00
        (
            [
                step("accept", "OP01", amount="200.00"),
                step("pay", "OP01", amount="250000.00"),
                step("accept", "AD01", business="YW2", amount=None),
            ],
            {"YW1": Decimal("250000.00"), "YW2": Decimal("0.00")},
        ),
    ],
)
def test_sod_breach_edges(log, expected):
    found = findings("SOD_BREACH", {"business_log": log, "operators": OPERATORS})
    assert subjects(found) == expected


def test_region_person_and_period():
    log = [
        step("accept", "OP03", "2025-01-31 17:00:00"),
        step("review", "OP01", "2025-02-01 09:00:00", person=P),
        step("recheck", "OP03", "2025-02-02 09:00:00"),
        step("approve", "OP01", "2025-02-03 09:00:00", person=P),
        step("pay", "XX99", "2025-02-04 09:00:00"),
        step("pay", "XX99", "2025-02-04 10:00:00", business="YW2"),
        step("accept", "XX99", "2025-02-04 11:00:00", business="YW2"),
    ]
    found = findings("SOD_BREACH", {"business_log": log, "operators": OPERATORS})
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    # OP03 (330200) offended first; the period is the month of the first step
    assert (rows["YW1"]["region_code"], rows["YW1"]["person_id"]) == ("330200", P)
    assert (rows["YW1"]["period_from"], rows["YW1"]["period_to"]) == ("202501", "202501")
    # an unregistered operator has no region; the business has no person
    assert (rows["YW2"]["region_code"], rows["YW2"]["person_id"], rows["YW2"]["period_from"]) == (None, None, "202502")


def test_finding_reads_like_an_analyst_would_write_it():
    log = [
        step("accept", "OP01", "2025-03-05 09:00:00", amount="12345.60"),
        step("review", "OP02", "2025-03-05 10:00:00", amount="12345.60"),
        step("recheck", "AD01", "2025-03-05 11:00:00", amount="12345.60"),
        step("pay", "OP01", "2025-03-05 12:00:00", amount="12345.60"),
    ]
    found = findings("SOD_BREACH", {"business_log": log, "operators": OPERATORS})
    row = found.row(0, named=True)
    assert row["summary"] == (
        "不相容岗位混岗：OP01（经办）一人办理受理、支付；AD01（系统管理员）办理复核，业务金额12,345.60元"
    )
    assert row["region_code"] == "330100"
    rows = json.loads(row["evidence_rows"])
    assert [r["stage"] for r in rows] == ["accept", "review", "recheck", "pay"]
    assert rows[2] == {
        "operated_at": "2025-03-05 11:00:00",
        "stage": "recheck",
        "operator_id": "AD01",
        "role": "系统管理员",
        "amount": "12345.60",
        "person_id": None,
    }
