"""DUP_ENROLL: the 30-day overlap, open spells, scheme families, the region that verifies."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.rules.harness import findings

P = "330102198001010011"
Q = "11010519491231002X"  # came as a 15-digit ID; canonical (18 digits) by the time a rule sees it
ZERO = Decimal("0.00")


def spell(eid, scheme, start, end=None, region="330100", person=P, employer="E001"):
    return {
        "enrollment_id": eid,
        "person_id": person,
        "name": "张三",
        "region_code": region,
        "scheme": scheme,
        "employer_id": employer,
        "start_date": start,
        "end_date": end,
    }


@pytest.mark.parametrize(
    ("spells", "expected"),
    [
        # 2025-04-01..2025-04-30 in both spells: exactly 30 days, tolerated (a transfer takes time)
        ([spell("C1", "110", "2015-01-01", "2025-04-30"), spell("C2", "110", "2025-04-01", region="330200")], {}),
        # 31 days (April 1 to May 1): a finding; the later-starting spell's region verifies
        (
            [spell("C1", "110", "2015-01-01", "2025-05-01"), spell("C2", "110", "2025-04-01", region="330200")],
            {P: ("330200", "202504", "202505")},
        ),
        # two open spells: the overlap runs until as_of (2025-12-31)
        (
            [spell("C1", "120", "2012-07-01"), spell("C2", "110", "2025-05-01", region="330300")],
            {P: ("330300", "202505", "202512")},
        ),
        # same scheme twice in one region
        (
            [spell("C1", "310", "2018-05-01", "2025-06-30"), spell("C2", "310", "2025-02-01")],
            {P: ("330100", "202502", "202506")},
        ),
        # pension family: enterprise 110 and resident 170
        (
            [spell("C1", "110", "2016-01-01"), spell("C2", "170", "2024-01-01", "2025-05-31", employer=None)],
            {P: ("330100", "202401", "202505")},
        ),
        # medical family 310/390
        (
            [spell("C1", "390", "2025-03-01", employer=None), spell("C2", "310", "2020-01-01", "2025-12-31")],
            {P: ("330100", "202503", "202512")},
        ),
        # pension and medical are different insurances, unemployment and injury are single schemes
        ([spell("C1", "110", "2016-01-01"), spell("C2", "310", "2016-01-01")], {}),
        ([spell("C1", "210", "2016-01-01"), spell("C2", "410", "2016-01-01")], {}),
        # one spell, or two spells one after the other: nothing
        ([spell("C1", "110", "2016-01-01")], {}),
        ([spell("C1", "110", "2016-01-01", "2024-12-31"), spell("C2", "110", "2025-01-01", region="330200")], {}),
        # the same spell delivered twice (one enrollment_id) is not a second enrollment
        ([spell("C1", "110", "2016-01-01"), spell("C1", "110", "2016-01-01")], {}),
        # different persons never pair; the former 15-digit ID is matched in its canonical form
        (
            [
                spell("C1", "110", "2016-01-01", person=Q),
                spell("C2", "110", "2025-01-01", person=P),
                spell("C3", "110", "2025-01-01", "2025-03-31", person=Q, region="330500"),
            ],
            {Q: ("330500", "202501", "202503")},
        ),
        # several pairs: months span all of them; the region comes from the first pair
        (
            [
                spell("C1", "110", "2010-01-01"),
                spell("C2", "110", "2024-06-01", "2024-12-31", region="330200"),
                spell("C3", "170", "2025-03-01", "2025-08-31", region="330300", employer=None),
            ],
            {P: ("330200", "202406", "202508")},
        ),
    ],
)
def test_dup_enroll_edges(spells, expected):
    found = findings("DUP_ENROLL", {"enrollment": spells})
    got = {r["subject_id"]: (r["region_code"], r["period_from"], r["period_to"]) for r in found.iter_rows(named=True)}
    assert got == expected
    assert all(a == ZERO for a in found["amount_at_risk"])


def test_finding_reads_like_an_analyst_would_write_it():
    spells = [
        spell("C1", "110", "2015-04-01", region="330100"),
        spell("C2", "110", "2025-02-01", "2025-06-30", region="330200", employer="E002"),
    ]
    row = findings("DUP_ENROLL", {"enrollment": spells}).row(0, named=True)
    assert row["summary"] == "企业职工基本养老保险在330100与330200两地参保重叠150天（2025-02-01至2025-06-30）"
    rows = json.loads(row["evidence_rows"])
    assert [r["enrollment_id"] for r in rows] == ["C1", "C2"]
    assert rows[0] == {
        "enrollment_id": "C1",
        "scheme": "110",
        "region_code": "330100",
        "employer_id": "E001",
        "start_date": "2015-04-01",
        "end_date": None,
    }


def test_open_overlap_and_families_in_the_summary():
    spells = [spell("C1", "120", "2012-07-01"), spell("C2", "170", "2025-05-01", region="330300", employer=None)]
    row = findings("DUP_ENROLL", {"enrollment": spells}).row(0, named=True)
    assert row["summary"] == (
        "机关事业单位养老保险（330100）与城乡居民基本养老保险（330300）同时参保重叠245天（2025-05-01起至今，计至2025-12-31）"
    )
