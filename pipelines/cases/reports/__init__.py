"""The reports of the 四定一限 cycle, in Chinese, each as Markdown and XLSX.

* `monthly_self_check` — 定期自查报告 for a month (`自查报告_YYYYMM`).
* `supervision_report` — 定期报告 (监督报告), half-year or annual, with exactly the five sections the
  policy lists (`监督报告_2025H1`, `监督报告_2025年度`).
* `circulation` — 定期通报 of the pooling regions, ranked (`通报_YYYY-MM-DD`).
* `yaoqing_statistics` — 要情统计 for a half-year, or its 零报告 when none occurred (`要情统计_2025H2`).

Sources, opened read-only and never written: the case register (SQLite, the source of truth for
cases, docs/adr/0007-case-register-in-sqlite.md) and, for fund figures and runs, the DuckDB file.
Queries are files in `sql/reports/`, values bound as parameters.

Modules:
* `document` — the document model (`Document`, `Section`, `Table`, `Col`, `Chart`) and `cell_text`;
* `markdown` — GitHub pipe tables (`markdown_table`, `render_markdown`);
* `xlsx` — `XlsxReport`, one sheet per section with native charts;
* `output` — `write_report`, the `.md` and `.xlsx` of a report side by side;
* `sources` — the register and DuckDB read-only (`cases_at`, `events_between`, `duck_rows`) and the
  period helpers (month and half-year bounds, the cut-off day);
* `common` — what several reports share: status constants, exact tallies, `competition_ranks`, the
  tables by rule and status, overdue cases, nightly runs and data quality;
* `measures` — `MEASURES`, the policy text of 下一步措施 per rule;
* one module per report: `monthly`, `supervision`, `circulation`, `yaoqing`.
The document, rendering and output modules never import a report module.

Conventions of every report:
* Money is exact: the register's decimal text and DuckDB's DECIMAL become `Decimal`, sums are
  `Decimal` sums, rendered "41,220.00"; XLSX cells hold the number formatted #,##0.00
  (`pipelines.present.money`).
* A case's status on a day (`status_at`) is replayed from `case_events`, so a report for a past
  period shows the state at its end, not today's. Overdue (逾期) is derived as the register does:
  a due date before the report's cut-off day and the case neither dismissed nor rectified.
* The region (统筹区) of a case is the region that verifies it: `assigned_region`, else the
  finding's `region_code` (下查一级).
* Citizen IDs and personal bank accounts shown as a case's subject are masked (330102********1234),
  as in the 核查清单 (`pipelines.present.masking`).
* The cut-off day of a period report is the period's last day, or the day it is generated if
  earlier (a half-year report is due before the half ends); `as_of=` overrides it. That day, `today=`,
  is passed in by the caller (the command's today in Asia/Shanghai), never read from the machine.

Each report is first built as a `Document` (headings, paragraphs, tables, chart specs), then
rendered twice: GitHub pipe tables in Markdown, one sheet per section with native charts in XLSX.
"""

from pipelines.cases.reports.circulation import circulation
from pipelines.cases.reports.monthly import monthly_self_check
from pipelines.cases.reports.supervision import SUPERVISION_SECTIONS, supervision_report
from pipelines.cases.reports.yaoqing import yaoqing_statistics

__all__ = [
    "SUPERVISION_SECTIONS",
    "circulation",
    "monthly_self_check",
    "supervision_report",
    "yaoqing_statistics",
]
