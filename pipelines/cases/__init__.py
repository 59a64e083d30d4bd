"""The 四定一限 case cycle: the register, deadlines, 要情, checklists and reports.

* `register`   the case register (SQLite beside the DuckDB file, ADR 0007): lifecycle, audit trail;
* `calendar`   working days on the official calendar; `severity` 要情 / 重大要情;
* `nightly`    a run's side: the register follows the findings, the DuckDB file mirrors the register;
* `export`     the per-region 核查清单 (XLSX); `reports/` the reports of the cycle (Markdown and XLSX).

Imports `schemas`, `pipelines.rules`, `pipelines.warehouse` and `pipelines.present` only.
"""
