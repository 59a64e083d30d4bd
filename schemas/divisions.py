"""GB/T 2260 administrative division codes, every one ever listed (`gbt2260.csv`, built by `gbt2260_build.py`).

A citizen ID keeps the division code of where it was issued, also after that division was abolished or
merged (330103 下城区 and 330104 江干区, merged in 2021, are still valid ID prefixes): an ID's first six
digits are checked against every code of the table, not only today's (CONTRACT.md section 1).
The table also names regions: `division_names` (a code's own name, 上城区) and `region_label` (the code
with the name an official writes, 330102 杭州市上城区). See docs/adr/0012-plausible-values.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DIVISIONS_FILE = Path(__file__).with_name("gbt2260.csv")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    first_year: int
    last_year: int | None  # None: still listed by the newest source


@cache
def divisions() -> tuple[Division, ...]:
    """Every row of the table: one per (code, name), in code order."""
    with DIVISIONS_FILE.open(encoding="utf-8", newline="") as f:
        return tuple(
            Division(r["code"], r["name"], int(r["first_year"]), int(r["last_year"]) if r["last_year"] else None)
            for r in csv.DictReader(f)
        )


@cache
def division_codes() -> frozenset[str]:
    """Every 6-digit code GB/T 2260 has ever listed."""
    return frozenset(d.code for d in divisions())


@cache
def division_names() -> dict[str, str]:
    """Code -> its name now (a code no longer listed: its last name)."""
    latest: dict[str, Division] = {}
    for d in divisions():
        old = latest.get(d.code)
        if old is None or _recency(d) > _recency(old):
            latest[d.code] = d
    return {code: d.name for code, d in latest.items()}


def _recency(d: Division) -> tuple[int, int]:
    return (d.last_year if d.last_year is not None else 10_000, d.first_year)


# The names GB/T 2260 gives a level that is only a grouping, never a place: the districts of a municipality
# (110100 市辖区, 110200 县) and the county-level cities a province governs directly (429000 省直辖县级行政区划).
_GROUPING_NAMES = ("市辖区", "县")


def _is_grouping(name: str) -> bool:
    return name in _GROUPING_NAMES or "直辖" in name


@cache
def region_name(code: str) -> str | None:
    """The name an official writes for a division, None for a code GB/T 2260 never listed.

    A province or a prefecture by its own name (330000 浙江省, 330100 杭州市); a county-level division after
    its prefecture (330102 杭州市上城区), or after its province where the prefecture level is only a grouping
    (110101 北京市东城区, 429004 湖北省仙桃市). Abolished codes keep their last name (330103 杭州市下城区).
    """
    names = division_names()
    own = names.get(code)
    if own is None or len(code) != 6:
        return None
    province = names.get(code[:2] + "0000")
    if code.endswith("0000"):
        return own
    if code.endswith("00"):
        return f"{province}{own}" if _is_grouping(own) and province else own
    prefecture = names.get(code[:4] + "00")
    parent = prefecture if prefecture and not _is_grouping(prefecture) else province
    return f"{parent or ''}{own}"


def region_label(code: str | None) -> str:
    """'330102 杭州市上城区'; a code the table does not know is shown as it is ('' for none)."""
    if not code:
        return ""
    name = region_name(code)
    return f"{code} {name}" if name else code
