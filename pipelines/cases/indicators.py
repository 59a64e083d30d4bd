"""统计分析、监测预警: the indicators of each run per pooling region, and the early warnings (预警) they raise
(policy 浙人社发〔2012〕320号 §八; issue 16 item 4; docs/adr/0027-indicators-and-early-warning.md).

Every nightly run, just before it publishes (`pipelines.app.flow`), `build` computes the indicators below per pooling
region (统筹区 region_code) and for the province as a whole (region '000000', 全省), compares them with the
thresholds an office keeps in a YAML file (`schemas/warning_thresholds.yaml`, or the file the setting
FUNDWATCH_THRESHOLDS names), and adds both to HISTORY tables of the DuckDB file (`sql/ddl/010_indicators.sql`):
`indicators` (one row per run, region and indicator) and `early_warnings` (one row per run, region and indicator
whose value reached a level). A rerun of the same run id replaces its own rows; the rows of earlier runs stay.

The indicators (value = numerator / denominator, rounded half-even to 6 decimals; NULL when the denominator is 0):

* findings_per_10k 每万参保人疑点数 = open findings of the run × 10,000 / insured persons. Open findings: suspects
  active in the run (fired, or carried forward) and neither dismissed nor rectified, by their region_code.
  Insured persons: distinct citizens with an enrollment spell in force on the run's data date (any scheme).
* amount_at_risk_share 风险金额占待遇支出比 = amount at risk of those open findings / benefits paid in the window.
  Benefits paid: benefit_payments.amount by 所属期 plus medical_claims.fund_paid by month of service. The window is
  the 12 months ending with the latest month of benefits paid in force that is not after the run's month (the
  data's latest month, not the calendar's: a delivery lags, and the findings' amounts concern the data in force).
* overdue_rate 超期率 = overdue cases / open cases, from the register mirrored into the DuckDB file (`cases`):
  open = neither dismissed nor rectified; overdue = of those, the register's 逾期 flag on the data date.
* recurrence_rate 复发率 = cases reopened after rectification (recurrences > 0) / cases ever rectified
  (rectified_on recorded, or reopened).
* recovered_share 追回率 = amount recovered / amount confirmed, over the confirmed cases (confirmed, partially
  recovered, rectified); the register counts a recovery up to the amount at risk, so it is never above 1.
* missing_deliveries 缺失报送数 = the datasets `v_missing_deliveries` marks missing (a count: value = numerator,
  no denominator), province-wide only (region '000000'): the view has no region, each department delivers for the
  province.

A case's region is the region that verifies it (assigned_region, else the finding's region_code), as in the
reports. SQL: `sql/indicators/`. Money and rates are exact decimals (Decimal, DECIMAL), never floats.

Thresholds (`load_thresholds`): per indicator a direction (higher_is_worse: a value at or above a level's value
reaches it; lower_is_worse: at or below) and the values of up to three levels — watch 关注, warning 预警, alarm 警报
— with optional per-region overrides, level by level. A malformed file is a `ThresholdsError` naming the file,
the key and the line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.present.money import fmt_pct
from pipelines.warehouse.session import transaction
from pipelines.warehouse.sql import read_sql
from schemas.divisions import region_label

PROVINCE = "000000"  # the province as a whole (全省)
PROVINCE_ZH = "全省 province-wide"
DEFAULT_THRESHOLDS = Path(__file__).resolve().parents[2] / "schemas" / "warning_thresholds.yaml"
SCALE = Decimal("0.000001")  # the 6 decimals a value is kept to
WINDOW_MONTHS = 12


@dataclass(frozen=True)
class Indicator:
    """One indicator: its code, Chinese name, unit (per_10k | ratio | count) and what it divides."""

    code: str
    name_zh: str
    unit: str
    numerator_zh: str
    denominator_zh: str

    @property
    def label(self) -> str:
        return f"{self.name_zh}（{self.code}）"


INDICATORS = (
    Indicator("findings_per_10k", "每万参保人疑点数", "per_10k", "本次运行未结疑点数", "参保人数（数据日期在保）"),
    Indicator("amount_at_risk_share", "风险金额占待遇支出比", "ratio", "未结疑点涉及金额", "窗口期待遇支出"),
    Indicator("overdue_rate", "超期率", "ratio", "逾期案件数", "未结案件数"),
    Indicator("recurrence_rate", "复发率", "ratio", "整改后再次发生案件数", "曾整改案件数"),
    Indicator("recovered_share", "追回率", "ratio", "已追回金额", "确认违规金额"),
    Indicator("missing_deliveries", "缺失报送数", "count", "未报送最新月份的数据集数", ""),
)
BY_CODE = {i.code: i for i in INDICATORS}

LEVELS = ("watch", "warning", "alarm")  # in order of severity
LEVEL_ZH = {"watch": "关注", "warning": "预警", "alarm": "警报"}
HIGHER, LOWER = "higher_is_worse", "lower_is_worse"
DIRECTIONS = (HIGHER, LOWER)
DIRECTION_ZH = {HIGHER: "数值越高风险越大", LOWER: "数值越低风险越大"}


def level_label(level: str) -> str:
    """'预警 warning'."""
    return f"{LEVEL_ZH[level]} {level}"


def region_text(code: str) -> str:
    """'330100 杭州市'; the province '000000 全省 province-wide'."""
    return f"{PROVINCE} {PROVINCE_ZH}" if code == PROVINCE else region_label(code)


def shown_value(indicator: str, value: Decimal | None) -> str:
    """A value as an official reads it: a rate as a percentage, per 10,000 with 2 decimals, a count whole."""
    if value is None:
        return "—"
    unit = BY_CODE[indicator].unit
    if unit == "ratio":
        return fmt_pct(value)
    if unit == "count":
        return f"{value.to_integral_value(rounding=ROUND_HALF_EVEN):,}"
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}"


# ---- thresholds ------------------------------------------------------------------------------------------------


class ThresholdsError(ValueError):
    """A thresholds file that cannot be used: the file, the key and the line (1-based) are named."""

    def __init__(self, path: Path, key: str, line: int | None, problem: str) -> None:
        self.path, self.key, self.line, self.problem = path, key, line, problem
        where = f"第 {line} 行 line {line}, " if line is not None else ""
        super().__init__(f"预警阈值文件有误 invalid thresholds file {path}: {where}键 key {key}: {problem}")


@dataclass(frozen=True)
class Rule:
    """The thresholds of one indicator: its direction, the province's levels and the regions' overrides."""

    indicator: str
    direction: str
    levels: Mapping[str, Decimal]
    regions: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)

    def levels_for(self, region: str) -> dict[str, Decimal]:
        """The levels in force for a region: the province's, overridden level by level by the region's own."""
        return {**self.levels, **self.regions.get(region, {})}

    def evaluate(self, region: str, value: Decimal | None) -> tuple[str, Decimal] | None:
        """The most severe level `value` reaches in `region` and its threshold; None when none (or no value)."""
        if value is None:
            return None
        levels = self.levels_for(region)
        for level in reversed(LEVELS):
            threshold = levels.get(level)
            if threshold is None:
                continue
            if (value >= threshold) if self.direction == HIGHER else (value <= threshold):
                return level, threshold
        return None


@dataclass(frozen=True)
class Thresholds:
    path: Path
    rules: Mapping[str, Rule]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(path: Path, node: yaml.Node, key: str) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ThresholdsError(path, key, _line(node), "应为映射 expected a mapping (key: value lines)")
    seen: set[str] = set()
    for k, _ in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise ThresholdsError(path, key, _line(k), "键应为文字 a key must be plain text")
        if k.value in seen:
            raise ThresholdsError(path, f"{key}.{k.value}", _line(k), "重复的键 duplicate key")
        seen.add(k.value)
    return node.value


def _number(path: Path, node: yaml.Node, key: str) -> Decimal:
    """A level's value: a decimal number (0.2, 30) or a percentage ('20%'), exactly as written (never a float)."""
    text = node.value.strip() if isinstance(node, yaml.ScalarNode) else None
    if not text:
        raise ThresholdsError(path, key, _line(node), "应为数值 expected a number (e.g. 0.2, 30 or 20%)")
    try:
        number = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        raise ThresholdsError(path, key, _line(node), f"应为非负数值 expected a number >= 0, got {text!r}")
    return number


def _levels(path: Path, node: yaml.Node, key: str) -> dict[str, Decimal]:
    levels: dict[str, Decimal] = {}
    for k, v in _mapping(path, node, key):
        if k.value not in LEVELS:
            raise ThresholdsError(
                path, f"{key}.{k.value}", _line(k), f"未知级别 unknown level; 应为 expected {', '.join(LEVELS)}"
            )
        levels[k.value] = _number(path, v, f"{key}.{k.value}")
    return levels


def _check_order(path: Path, levels: dict[str, Decimal], direction: str, key: str, line: int) -> None:
    given = [(level, levels[level]) for level in LEVELS if level in levels]
    if not given:
        raise ThresholdsError(path, key, line, f"至少需要一个级别 at least one level of {', '.join(LEVELS)}")
    for (low, a), (high, b) in zip(given, given[1:], strict=False):
        wrong = a > b if direction == HIGHER else a < b
        if wrong:
            way = "不大于 <=" if direction == HIGHER else "不小于 >="
            raise ThresholdsError(
                path, key, line, f"{low} ({a}) 应{way} {high} ({b}): 级别须随严重程度递进 levels must escalate"
            )


def _rule(path: Path, code: str, node: yaml.Node) -> Rule:
    key = f"indicators.{code}"
    entries = {k.value: (k, v) for k, v in _mapping(path, node, key)}
    for name, (k, _) in entries.items():
        if name not in ("direction", "levels", "regions"):
            raise ThresholdsError(
                path, f"{key}.{name}", _line(k), "未知键 unknown key; 应为 expected direction, levels, regions"
            )
    for required in ("direction", "levels"):
        if required not in entries:
            raise ThresholdsError(path, f"{key}.{required}", _line(node), "缺少 missing")
    direction_node = entries["direction"][1]
    direction = direction_node.value if isinstance(direction_node, yaml.ScalarNode) else None
    if direction not in DIRECTIONS:
        expected = " or ".join(DIRECTIONS)
        raise ThresholdsError(
            path, f"{key}.direction", _line(direction_node), f"应为 expected {expected}, got {direction!r}"
        )
    levels_node = entries["levels"][1]
    levels = _levels(path, levels_node, f"{key}.levels")
    _check_order(path, levels, direction, f"{key}.levels", _line(levels_node))
    regions: dict[str, dict[str, Decimal]] = {}
    if "regions" in entries:
        for k, v in _mapping(path, entries["regions"][1], f"{key}.regions"):
            region_key = f"{key}.regions.{k.value}"
            if not (len(k.value) == 6 and k.value.isdigit()):
                raise ThresholdsError(path, region_key, _line(k), "统筹区编码应为6位数字 a region code is 6 digits")
            own = _levels(path, v, region_key)
            _check_order(path, {**levels, **own}, direction, region_key, _line(v))
            regions[k.value] = own
    return Rule(code, direction, levels, regions)


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The thresholds of `path` (default: the bundled `schemas/warning_thresholds.yaml`), validated; a file that
    cannot be read or used raises `ThresholdsError` naming the file, the key and the line."""
    path = Path(path) if path is not None else DEFAULT_THRESHOLDS
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ThresholdsError(path, "(file)", None, f"无法读取 cannot read: {err}") from err
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ThresholdsError(path, "(YAML)", line, f"YAML 语法错误 syntax error: {err.problem}") from err
    if root is None:
        raise ThresholdsError(path, "indicators", None, "文件为空 the file is empty")
    top = {k.value: (k, v) for k, v in _mapping(path, root, "(top)")}
    for name, (k, _) in top.items():
        if name != "indicators":
            raise ThresholdsError(path, name, _line(k), "未知键 unknown key; 应为 expected indicators")
    if "indicators" not in top:
        raise ThresholdsError(path, "indicators", _line(root), "缺少 missing")
    rules: dict[str, Rule] = {}
    for k, v in _mapping(path, top["indicators"][1], "indicators"):
        if k.value not in BY_CODE:
            known = ", ".join(BY_CODE)
            raise ThresholdsError(
                path, f"indicators.{k.value}", _line(k), f"未知指标 unknown indicator; 应为 expected {known}"
            )
        rules[k.value] = _rule(path, k.value, v)
    return Thresholds(path, rules)


# ---- computing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One indicator of one region: value = numerator / denominator (× 10,000 for findings_per_10k)."""

    region_code: str
    indicator: str
    numerator: Decimal
    denominator: Decimal | None
    value: Decimal | None
    basis: str


@dataclass(frozen=True)
class EarlyWarning:
    region_code: str
    indicator: str
    value: Decimal
    threshold: Decimal
    direction: str
    level: str
    message: str


def divide(numerator: Decimal | int, denominator: Decimal | int | None, factor: int = 1) -> Decimal | None:
    """numerator × factor / denominator to 6 decimals, rounded half-even; None when there is nothing to divide by."""
    if not denominator:
        return None
    return (Decimal(numerator) * factor / Decimal(denominator)).quantize(SCALE, rounding=ROUND_HALF_EVEN)


def _rows(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cursor = con.execute(read_sql(f"indicators/{name}"), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def month_shift(month: str, months: int) -> str:
    """'202512' shifted by `months` (negative: back)."""
    index = int(month[:4]) * 12 + int(month[4:]) - 1 + months
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def benefit_window(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> tuple[str, str] | None:
    """(first, last) month of the benefit window, or None when no benefit was paid up to the run's month."""
    (last,) = con.execute(read_sql("indicators/benefit_window.sql"), {"as_of_month": f"{as_of:%Y%m}"}).fetchone()
    return (month_shift(last, 1 - WINDOW_MONTHS), last) if last else None


def _has(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'", [name]
    ).fetchone()
    views = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND schema_name = 'main'", [name]
    ).fetchone()
    return bool(found[0] or views[0])


def compute(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[Value]:
    """Every indicator of every region (and of the province) for a run with data date `as_of`, from `con`."""
    window = benefit_window(con, as_of)
    first, last = window or ("", "")
    params = {"as_of": as_of, "window_from": first, "window_to": last}
    out: list[Value] = []
    basis_window = f"待遇窗口 benefit window {first}–{last}" if window else "窗口期无待遇支出 no benefits paid"
    for r in _rows(con, "finding_counts.sql", params):
        region = r["region_code"]
        out.append(
            Value(
                region,
                "findings_per_10k",
                Decimal(r["findings"]),
                Decimal(r["insured"]),
                divide(r["findings"], r["insured"], 10_000),
                f"参保人数按数据日期 insured on {as_of.isoformat()}",
            )
        )
        out.append(
            Value(
                region,
                "amount_at_risk_share",
                r["amount_at_risk"],
                r["paid"],
                divide(r["amount_at_risk"], r["paid"]),
                basis_window,
            )
        )
    if _has(con, "cases"):  # the register's mirror: absent only before a run ever synced cases
        basis = f"案件登记簿镜像 register mirror as of {as_of.isoformat()}"
        for r in _rows(con, "case_counts.sql", {}):
            region = r["region_code"]
            pairs = (
                ("overdue_rate", r["overdue_cases"], r["open_cases"]),
                ("recurrence_rate", r["recurrent_cases"], r["rectified_cases"]),
                ("recovered_share", r["recovered_amount"], r["confirmed_amount"]),
            )
            out += [Value(region, code, Decimal(n), Decimal(d), divide(n, d), basis) for code, n, d in pairs]
    if _has(con, "v_missing_deliveries"):
        (row,) = _rows(con, "missing_deliveries.sql", {})
        missing = Decimal(row["missing"])
        out.append(
            Value(PROVINCE, "missing_deliveries", missing, None, missing, f"数据集 {row['datasets']} 个 datasets")
        )
    order = {i.code: n for n, i in enumerate(INDICATORS)}
    return sorted(out, key=lambda v: (v.region_code != PROVINCE, v.region_code, order[v.indicator]))


def warnings_for(values: Iterable[Value], thresholds: Thresholds) -> list[EarlyWarning]:
    """The early warnings (预警) the values raise: per value, the most severe level it reaches."""
    out = []
    for v in values:
        rule = thresholds.rules.get(v.indicator)
        reached = rule.evaluate(v.region_code, v.value) if rule else None
        if rule is None or reached is None or v.value is None:
            continue
        level, threshold = reached
        ind = BY_CODE[v.indicator]
        reach = "达到或超过" if rule.direction == HIGHER else "达到或低于"
        message = (
            f"{region_text(v.region_code)} {ind.label}为 {shown_value(v.indicator, v.value)}，"
            f"{reach}{LEVEL_ZH[level]}（{level}）阈值 {shown_value(v.indicator, threshold)}"
            f"（{DIRECTION_ZH[rule.direction]}）。"
        )
        out.append(EarlyWarning(v.region_code, v.indicator, v.value, threshold, rule.direction, level, message))
    return out


@dataclass(frozen=True)
class Built:
    values: list[Value]
    warnings: list[EarlyWarning]


def build(
    con: duckdb.DuckDBPyConnection, run_id: str, as_of: dt.date, thresholds: Thresholds, computed_at: dt.datetime
) -> Built:
    """Compute the run's indicators and warnings and keep them in `indicators` / `early_warnings`, replacing the
    rows of this run id only (a rerun), in one transaction."""
    values = compute(con, as_of)
    warnings = warnings_for(values, thresholds)
    with transaction(con):
        con.execute("DELETE FROM indicators WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM early_warnings WHERE run_id = ?", [run_id])
        if values:
            con.executemany(
                "INSERT INTO indicators (run_id, as_of, region_code, indicator, value, numerator, denominator, basis,"
                " computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        run_id,
                        as_of,
                        v.region_code,
                        v.indicator,
                        v.value,
                        v.numerator,
                        v.denominator,
                        v.basis,
                        computed_at,
                    ]
                    for v in values
                ],
            )
        if warnings:
            con.executemany(
                "INSERT INTO early_warnings (run_id, as_of, region_code, indicator, value, threshold, direction, level,"
                " message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [run_id, as_of, w.region_code, w.indicator, w.value, w.threshold, w.direction, w.level, w.message]
                    for w in warnings
                ],
            )
    return Built(values, warnings)


# ---- reading ---------------------------------------------------------------------------------------------------


def run_warnings(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> list[dict[str, Any]]:
    """The warnings of a run (default: the latest run that has indicators), most severe first, then by region; []
    for a file published before the tables existed."""
    if not _has(con, "early_warnings"):
        return []
    return _rows(con, "run_warnings.sql", {"run_id": run_id})


def warning_lines(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The run summary's lines of the run's early warnings (预警), in Chinese with the codes beside."""
    if not _has(con, "indicators"):
        return []
    warnings = run_warnings(con, run_id)
    head = f"监测预警 early warnings of this run ({len(warnings)}; 视图 view `v_early_warnings`)"
    if not warnings:
        return ["", f"{head}: 无 none — 各项指标均未达到预警阈值 no indicator reached a threshold"]
    lines = ["", f"{head}:"]
    lines += [f"  - [{level_label(w['level'])}] {w['message']}" for w in warnings]
    return lines


def history(con: duckdb.DuckDBPyConnection, date_from: dt.date, date_to: dt.date) -> dict[str, list[dict[str, Any]]]:
    """The indicators and warnings of the last run of each month (by data date) from `date_from` to `date_to`:
    {'values': [...], 'warnings': [...]}, each row with its `month` (YYYYMM); empty for a file without them."""
    if not _has(con, "indicators"):
        return {"values": [], "warnings": []}
    params = {"date_from": date_from, "date_to": date_to}
    return {
        "values": _rows(con, "history.sql", params),
        "warnings": _rows(con, "history_warnings.sql", params),
    }
