"""The one typed settings object, read from the environment in one place.

Environment variables (all optional):

* ``FUNDWATCH_INBOX``  inbox folder (default: the bundled ``data_samples/``)
* ``FUNDWATCH_DB``     DuckDB file (default: ``var/fundwatch.duckdb`` under the working folder)
* ``FUNDWATCH_LARGE_PAYMENT_THRESHOLD``  yuan, default 100000.00 (大额支付审批限额)
* ``FUNDWATCH_DUCKDB_MEMORY_LIMIT``  DuckDB buffer pool limit, default 4GB (read in pipelines.store)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    inbox: Path
    db: Path
    large_payment_threshold: Decimal

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            inbox=Path(env.get("FUNDWATCH_INBOX", PROJECT_ROOT / "data_samples")),
            db=Path(env.get("FUNDWATCH_DB", Path.cwd() / "var" / "fundwatch.duckdb")),
            large_payment_threshold=Decimal(env.get("FUNDWATCH_LARGE_PAYMENT_THRESHOLD", "100000.00")),
        )
