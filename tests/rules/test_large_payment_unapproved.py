"""LARGE_PAYMENT_UNAPPROVED: the threshold edge, who approved, and a configurable threshold."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings, subjects

P = "11010519491231002X"
OPERATORS = [
    {"operator_id": "OP01", "region_code": "330100", "role": "business"},
    {"operator_id": "OP02", "region_code": "330100", "role": "business"},
    {"operator_id": "LD01", "region_code": "330100", "role": "leader"},
    {"operator_id": "AU01", "region_code": "330100", "role": "auditor"},
    {"operator_id": "OP09", "region_code": "330900", "role": "business"},
]


def business(amount, approver=None, business_id="YW1", day=5, person=None):
    """accept → review → (approve) → pay, three hours apart."""
    stages = (
        [("accept", "OP01"), ("review", "OP02")] + ([("approve", approver)] if approver else []) + [("pay", "OP01")]
    )
    return [
        {
            "business_id": business_id,
            "business_type": "基金支付审批",
            "stage": stage,
            "operator_id": op,
            "operated_at": f"2025-03-{day:02d} {9 + 3 * i:02d}:00:00",
            "person_id": person,
            "amount": amount,
        }
        for i, (stage, op) in enumerate(stages)
    ]


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        # one fen below the threshold, unapproved: no finding
        (business("99999.99"), {}),
        # exactly the threshold, unapproved: finding
        (business("100000.00"), {"YW1": Decimal("100000.00")}),
        # exactly the threshold, approved by a leader: no finding
        (business("100000.00", "LD01"), {}),
        # approved by a business operator, an auditor or an unregistered operator: finding
        (
            business("100000.00", "OP02") + business("250000.00", "AU01", "YW2") + business("300000.00", "XX99", "YW3"),
            {"YW1": Decimal("100000.00"), "YW2": Decimal("250000.00"), "YW3": Decimal("300000.00")},
        ),
        # a leader at another stage is no approval
        (
            [{**r, "operator_id": "LD01"} if r["stage"] == "review" else r for r in business("150000.00")],
            {"YW1": Decimal("150000.00")},
        ),
        # the business amount is the largest of its rows; no amount at all is never large
        (
            [{**r, "amount": "1.00"} if r["stage"] == "accept" else r for r in business("120000.00")]
            + business(None, business_id="YW2"),
            {"YW1": Decimal("120000.00")},
        ),
    ],
)
def test_large_payment_unapproved_edges(log, expected):
    found = findings("LARGE_PAYMENT_UNAPPROVED", {"business_log": log, "operators": OPERATORS})
    assert subjects(found) == expected


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (Decimal("50000.00"), {"YW1": Decimal("50000.00"), "YW2": Decimal("99999.99")}),
        (Decimal("50000.01"), {"YW2": Decimal("99999.99")}),
        (Decimal("200000.00"), {}),
    ],
)
def test_threshold_is_configurable(threshold, expected):
    log = business("50000.00") + business("99999.99", business_id="YW2") + business("150000.00", "LD01", "YW3")
    found = findings(
        "LARGE_PAYMENT_UNAPPROVED", {"business_log": log, "operators": OPERATORS}, large_payment_threshold=threshold
    )
    assert subjects(found) == expected


def test_region_person_and_period():
    log = [
        {**r, "operator_id": "XX99"} if r["stage"] == "accept" else r for r in business("100000.00", day=31, person=P)
    ]
    log = [{**r, "operated_at": r["operated_at"].replace("2025-03", "2025-01")} for r in log]
    found = findings("LARGE_PAYMENT_UNAPPROVED", {"business_log": log, "operators": OPERATORS})
    row = found.row(0, named=True)
    # the first step's operator is unregistered: the region comes from the next step (OP02, 330100)
    assert (row["region_code"], row["person_id"], row["period_from"], row["period_to"]) == (
        "330100",
        P,
        "202501",
        "202501",
    )


def test_finding_reads_like_an_analyst_would_write_it():
    log = business("250000.00", "AU01") + business("150000.00", business_id="YW2")
    found = findings("LARGE_PAYMENT_UNAPPROVED", {"business_log": log, "operators": OPERATORS})
    rows = {r["subject_id"]: r for r in found.iter_rows(named=True)}
    assert (
        rows["YW1"]["summary"] == "大额支付250,000.00元（标准100,000.00元）未经负责人审批：审批环节由AU01（稽核）办理"
    )
    assert rows["YW2"]["summary"] == "大额支付150,000.00元（标准100,000.00元）未经负责人审批：无审批环节"
    evidence = json.loads(rows["YW1"]["evidence_rows"])
    assert [r["stage"] for r in evidence] == ["accept", "review", "approve", "pay"]
    assert evidence[2] == {
        "operated_at": "2025-03-05 15:00:00",
        "stage": "approve",
        "operator_id": "AU01",
        "role": "稽核",
        "amount": "250000.00",
        "person_id": None,
    }
