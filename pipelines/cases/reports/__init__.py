"""The reports of the 四定一限 cycle, in Chinese, each as Markdown and XLSX.

* `monthly_self_check` — 定期自查报告 for a month (`自查报告_YYYYMM`).
* `supervision_report` — 定期报告 (监督报告), half-year or annual, with exactly the five sections the
  policy lists (`监督报告_2025H1`, `监督报告_2025年度`).
* `circulation` — 定期通报 of the pooling regions, ranked (`通报_YYYY-MM-DD`).
* `yaoqing_statistics` — 要情统计 for a half-year, or its 零报告 when none occurred (`要情统计_2025H2`).
* `adjudication_report` — 事前筛查核实认定月报 for a month: the payment batches screened, held, released, stopped
  and pending, per reason and region (`核实认定月报_YYYYMM`); it reads only the register's screening tables.

The supervision report carries, after its five sections, an annex of the blacklist's (黑名单) additions and
removals of the period.

Sources, opened read-only and never written, each read once per report in one read transaction: the case
register (SQLite, the source of truth for cases, docs/adr/0007-case-register-in-sqlite.md) and the DuckDB
file (runs, fund figures, the near-miss ledger/bank pairs named in the findings' evidence). Every section is
computed from those rows: no section queries on its own, so a sentence, the table beside it and its total
are sums over the same rows (docs/adr/0019-report-time-base.md). Queries are files in `sql/reports/`,
values bound as parameters.

Modules:
* `document` — the document model (`Document`, `Section`, `Table`, `Col`, `Chart`) and `cell_text`;
* `markdown` — GitHub pipe tables (`markdown_table`, `render_markdown`);
* `xlsx` — `XlsxReport`, one sheet per section with native charts;
* `output` — `write_report`, the `.md` and `.xlsx` of a report side by side;
* `sources` — the register and DuckDB read once (`read_register`, `read_warehouse`), the cases on a day
  (`cases_at`: status replayed from the events, money by on_date, a near-miss pair's money carried once),
  and the period helpers (month and half-year bounds, the cut-off day);
* `common` — what several reports share: status constants, exact tallies, `competition_ranks`, the
  tables by rule, region and status, money (追回 x of y, 核销, 待追回, excess apart), overdue cases,
  nightly runs and data quality;
* `measures` — `MEASURES`, the policy text of 下一步措施 per rule;
* one module per report: `monthly`, `supervision`, `circulation`, `yaoqing`, `adjudication`, `internal_audit`
  (the 稽核 核查表 and 稽核报告), `closing` (要情结案报告; `closing_docx` its DOCX), `indicators` (the indicators'
  history and the blocks of 基金安全评估), `inspection_docx` (the 专项检查报告 DOCX).
The document, rendering and output modules never import a report module.

Conventions of every report:
* One time base per report, stated in its header (口径): the monthly self-check counts the office's work
  by the register's dates; the supervision report counts by data period (所属期), fund figures and
  findings alike, and follows the period's findings in the register to its snapshot day; the circulation
  is the register on one day; the 要情 statistics count by the day of confirmation (确认违规日期). Case work
  is dated by the day the register gives it (the analyst's `--on`), money by `case_money.on_date`.
* Money is exact: the register's decimal text and DuckDB's DECIMAL become `Decimal`, sums are
  `Decimal` sums, rendered "41,220.00"; XLSX cells hold the number formatted #,##0.00
  (`pipelines.present.money`). Money recovered, written off or in excess is dated by `case_money.on_date`;
  recovery counts toward a case's amount at risk only up to it (the rest is excess, shown apart), so a
  recovery rate is never above 100%.
* A near-miss pair of RECON_LEDGER_BANK findings (one movement booked outside the ±3-day window) stays two
  cases, but its money is counted once in every total: one case of the pair carries it (`carry_pairs`).
* A case's status on a day (`status_at`) is replayed from `case_events` (events voided by a correction
  left out), so a report for a past period shows the state at its end, not today's. Overdue (逾期) is
  derived as the register does: a due date before the report's cut-off day and the case neither dismissed
  nor rectified. A provisional deadline shows as `2027-01-14（暂定 provisional）`.
* The region (统筹区) of a case is the region that verifies it: `assigned_region`, else the
  finding's `region_code` (下查一级).
* Citizen IDs and personal bank accounts shown as a case's subject are masked (330102********1234),
  as in the 核查清单 (`pipelines.present.masking`).
* The cut-off day of the monthly report is the month's last day, or the day it is generated if earlier;
  the supervision report and the 要情 statistics look at the register on the day they are generated; the
  adjudication report counts the month's screenings with the decisions in force at the end of the day it is
  generated; `as_of=` overrides it. That day, `today=`, is passed in by the caller (the command's today in
  Asia/Shanghai), never read from the machine.

Each report is first built as a `Document` (headings, paragraphs, tables, chart specs), then
rendered twice: GitHub pipe tables in Markdown, one sheet per section with native charts in XLSX.
"""

from pipelines.cases.reports.adjudication import adjudication_report
from pipelines.cases.reports.circulation import circulation
from pipelines.cases.reports.monthly import monthly_self_check
from pipelines.cases.reports.supervision import SUPERVISION_SECTIONS, supervision_report
from pipelines.cases.reports.yaoqing import yaoqing_statistics

__all__ = [
    "SUPERVISION_SECTIONS",
    "adjudication_report",
    "circulation",
    "monthly_self_check",
    "supervision_report",
    "yaoqing_statistics",
]
