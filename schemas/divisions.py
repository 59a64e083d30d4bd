"""GB/T 2260 administrative division codes, every one ever listed (`gbt2260.csv`, built by `gbt2260_build.py`).

A citizen ID keeps the division code of where it was issued, also after that division was abolished or
merged (330103 下城区 and 330104 江干区, merged in 2021, are still valid ID prefixes): an ID's first six
digits are checked against every code of the table, not only today's (CONTRACT.md section 1).
The table also names regions (`division_names`). See docs/adr/0012-plausible-values.md.
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
