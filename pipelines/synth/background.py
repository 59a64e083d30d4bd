"""The finding-free background: every dataset, vectorised, consistent by construction.

Invariants that keep CONTRACT section 3 silent on this data:

* spells of one person never overlap (history ends before the current job; the
  resident medical spell of the unemployed starts the day after the job ends);
* one payment per person, benefit type and period; each person has an own account;
* pensions stop with the month of death (funeral/survivor grants come after);
* unemployment is paid only for months after the job ended, payroll only before;
* contributions are computed from payroll and collected exactly (split vouchers sum);
* every special-account ledger line has exactly one bank line (same account,
  direction, amount, date within ±2 days) and amounts are unique per account and
  direction (all even fen: planted amounts are odd, so they never pair up);
* every payment has a successful bank result on the same account and amount;
* the five workflow stages are done by five distinct non-admin operators and
  large businesses are approved by a leader;
* only pensioners are paid a pension and only the unemployed unemployment benefit;
  a pensioner's custody does not stop a pension or ended before YEAR;
* no two persons share a name, birth date and gender (``population.unique_names``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .constants import BUSINESS_TYPES, ENTERPRISE_RATES, PUBLIC_RATES, REGION_CODES, REGIONS, YEAR
from .population import days, pick_employer
from .rng import Rng

YEAR_MI = YEAR * 12  # month index of January of YEAR
STAGES = ("accept", "review", "recheck", "approve", "pay")


def mi_expr(d: pl.Expr) -> pl.Expr:
    """Month index (year*12 + month-1) of a date column."""
    return d.dt.year().cast(pl.Int64) * 12 + d.dt.month().cast(pl.Int64) - 1


def period_of_mi(mi: pl.Expr) -> pl.Expr:
    """YYYYMM of a month index."""
    return ((mi // 12) * 100 + mi % 12 + 1).cast(pl.Int32)


def date_of_days(x: pl.Expr) -> pl.Expr:
    return x.cast(pl.Int32).cast(pl.Date)


def day_in_period(period: pl.Expr, day: pl.Expr | int) -> pl.Expr:
    """The date of a given day inside a YYYYMM period."""
    day = pl.lit(day) if isinstance(day, int) else day
    return pl.date(period // 100, period % 100, day)


def uniform_days(u: pl.Expr, lo: pl.Expr, hi: pl.Expr) -> pl.Expr:
    return lo + (u * (hi - lo)).floor().cast(pl.Int64)


def birth_plus(years: int) -> pl.Expr:
    return pl.col("birth_date").cast(pl.Int64) + int(years * 365.25) + 1


def build_facts(rng: Rng, persons: pl.DataFrame, employers: pl.DataFrame) -> pl.DataFrame:
    """Per background person: jobs, history, retirement, death, benefit parameters."""
    df = persons.filter(pl.col("category") != "X")
    n = df.height

    def u(name: str) -> pl.Series:
        return rng.uniform(f"facts:{name}", n)

    df = df.with_columns(
        *[
            u(k).alias(f"u_{k}")
            for k in (
                "job",
                "hist",
                "hist_len",
                "hist_gap",
                "hist_region",
                "jobend",
                "months",
                "pension",
                "death",
                "deathday",
                "wage",
                "injury",
                "maternity",
                "mat_month",
                "res",
                "unemp_amt",
                "funeral",
                "survivor",
            )
        ]
    )
    kind = (
        pl.when(pl.col("category").is_in(["C"]) | ((pl.col("category") == "P") & (pl.col("u_pension") > 0.85)))
        .then(pl.lit("C"))
        .otherwise(pl.lit("E"))
    )
    df = pick_employer(df, employers, kind, "region_code", u("employer"), "employer_id")
    # History: 30 % of employees had an earlier job, ending 1-60 days before this one.
    df = df.with_columns(
        pl.when(pl.col("u_hist_region") < 0.8)
        .then(pl.col("region_code"))
        .otherwise(rng.choice("facts:hist_region_pick", n, REGION_CODES))
        .alias("hist_region")
    )
    df = pick_employer(df, employers, pl.lit("E"), "hist_region", u("hist_employer"), "hist_employer_id")

    cat = pl.col("category")
    lo_e = pl.max_horizontal(birth_plus(18), pl.lit(days(dt.date(2000, 1, 1))))
    lo_c = pl.max_horizontal(birth_plus(22), pl.lit(days(dt.date(1995, 1, 1))))
    lo_u = pl.max_horizontal(birth_plus(18), pl.lit(days(dt.date(2005, 1, 1))))
    job_end_u = uniform_days(
        pl.col("u_jobend"), pl.lit(days(dt.date(YEAR - 1, 7, 1))), pl.lit(days(dt.date(YEAR, 8, 31)))
    )
    df = df.with_columns(
        pl.when(cat == "E")
        .then(uniform_days(pl.col("u_job"), lo_e, pl.lit(days(dt.date(YEAR, 9, 30)))))
        .when(cat == "C")
        .then(uniform_days(pl.col("u_job"), lo_c, pl.lit(days(dt.date(YEAR - 1, 12, 31)))))
        .when(cat == "U")
        .then(uniform_days(pl.col("u_job"), lo_u, job_end_u - 200))
        .when(cat == "P")
        .then(birth_plus(22))
        .otherwise(None)
        .alias("job_start_d"),
        pl.when(cat == "U").then(job_end_u).otherwise(None).alias("job_end_d"),
    )
    df = df.with_columns(
        (pl.col("job_start_d") - 1 - (pl.col("u_hist_gap") * 60).floor().cast(pl.Int64)).alias("hist_end_d")
    )
    df = df.with_columns(
        (pl.col("hist_end_d") - 365 - (pl.col("u_hist_len") * 3000).floor().cast(pl.Int64)).alias("hist_start_d")
    )
    df = df.with_columns(
        ((cat == "E") & (pl.col("u_hist") < 0.3) & (pl.col("hist_start_d") >= birth_plus(18))).alias("has_hist"),
        # Retirement: men at 60, women at 55.
        pl.when(cat == "P")
        .then(pl.when(pl.col("gender") == "1").then(birth_plus(60)).otherwise(birth_plus(55)))
        .alias("retire_d"),
        pl.when(cat == "P")
        .then(
            pl.when(pl.col("u_pension") > 0.85)
            .then(pl.lit("120"))
            .when(pl.col("u_pension") > 0.70)
            .then(pl.lit("170"))
            .otherwise(pl.lit("110"))
        )
        .alias("pension_scheme"),
        pl.when(cat == "R")
        .then(
            uniform_days(
                pl.col("u_res"),
                pl.max_horizontal(birth_plus(16), pl.lit(days(dt.date(2011, 7, 1)))),
                pl.lit(days(dt.date(YEAR - 1, 12, 31))),
            )
        )
        .alias("res_start_d"),
        # Deaths during the year: 1.5 % of pensioners, 0.2 % of residents.
        (((cat == "P") & (pl.col("u_death") < 0.015)) | ((cat == "R") & (pl.col("u_death") < 0.002))).alias("dies"),
    )
    df = df.with_columns(
        pl.when(pl.col("dies"))
        .then(pl.lit(days(dt.date(YEAR, 1, 1))) + (pl.col("u_deathday") * 365).floor().cast(pl.Int64))
        .alias("death_d")
    )
    df = df.with_columns(
        pl.when(pl.col("pension_scheme") == "170")
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("employer_id"))
        .alias("employer_id"),
        date_of_days(pl.col("death_d")).alias("death_date"),
        # Amounts in fen.
        (300_000 + (pl.col("u_wage") ** 2 * 2_700_000).floor()).cast(pl.Int64).alias("wage_fen"),
        pl.when(pl.col("pension_scheme") == "110")
        .then(250_000 + (pl.col("u_wage") * 450_000).floor())
        .when(pl.col("pension_scheme") == "120")
        .then(450_000 + (pl.col("u_wage") * 650_000).floor())
        .when(pl.col("pension_scheme") == "170")
        .then(18_000 + (pl.col("u_wage") * 32_000).floor())
        .cast(pl.Int64)
        .alias("pension_fen"),
        (170_000 + (pl.col("u_unemp_amt") * 90_000).floor()).cast(pl.Int64).alias("unemp_fen"),
        (200_000 + (pl.col("u_injury") * 10_000_000).floor() % 200_000).cast(pl.Int64).alias("injury_fen"),
        ((cat == "E") & (pl.col("u_injury") < 0.005)).alias("injured"),
        (
            (cat == "E")
            & (pl.col("gender") == "2")
            & (pl.col("birth_date").dt.year() >= 1982)
            & (pl.col("u_maternity") < 0.04)
        ).alias("maternity"),
        (800_000 + (pl.col("u_maternity") * 100_000_000).floor() % 3_200_000).cast(pl.Int64).alias("maternity_fen"),
        (YEAR * 100 + 1 + (pl.col("u_mat_month") * 12).floor()).cast(pl.Int32).alias("maternity_period"),
        (500_000 + (pl.col("u_funeral") * 2_500_000).floor()).cast(pl.Int64).alias("funeral_fen"),
        (1_000_000 + (pl.col("u_survivor") * 5_000_000).floor()).cast(pl.Int64).alias("survivor_fen"),
    )
    # Unemployment benefit months: from the month after the job ended, 3-12 months, within YEAR.
    end_mi = mi_expr(date_of_days(pl.col("job_end_d")))
    df = df.with_columns(
        pl.max_horizontal(end_mi + 1, pl.lit(YEAR_MI)).alias("unemp_first_mi"),
        end_mi.alias("job_end_mi"),
    )
    df = df.with_columns(
        pl.min_horizontal(
            pl.col("unemp_first_mi") + 2 + (pl.col("u_months") * 10).floor().cast(pl.Int64), pl.lit(YEAR_MI + 11)
        ).alias("unemp_last_mi")
    )
    return df.drop([c for c in df.columns if c.startswith("u_")])


def _spells(
    df: pl.DataFrame, schemes: list[str], region: str, employer: str | None, start: pl.Expr, end: pl.Expr | None
) -> pl.DataFrame:
    base = df.select(
        "person_id",
        "name",
        "gender",
        "birth_date",
        pl.col(region).alias("region_code"),
        (pl.col(employer) if employer else pl.lit(None, dtype=pl.String)).alias("employer_id"),
        date_of_days(start).alias("start_date"),
        (date_of_days(end) if end is not None else pl.lit(None, dtype=pl.Date)).alias("end_date"),
        "pidx",
    )
    return base.join(pl.DataFrame({"scheme": schemes}), how="cross")


def build_enrollment(facts: pl.DataFrame) -> pl.DataFrame:
    """Enrollment spells (参保登记) of every background person; no two overlap."""
    cat = pl.col("category")
    emp = list(ENTERPRISE_RATES)
    e = facts.filter(cat == "E")
    h = e.filter(pl.col("has_hist"))
    c = facts.filter(cat == "C")
    r = facts.filter(cat == "R")
    p = facts.filter(cat == "P")
    p_work = p.filter(pl.col("pension_scheme") != "170")
    u = facts.filter(cat == "U")
    death_end = pl.col("death_d")
    parts = [
        _spells(e, emp, "region_code", "employer_id", pl.col("job_start_d"), None),
        _spells(h, emp, "hist_region", "hist_employer_id", pl.col("hist_start_d"), pl.col("hist_end_d")),
        _spells(c, list(PUBLIC_RATES), "region_code", "employer_id", pl.col("job_start_d"), None),
        _spells(r, ["170", "390"], "region_code", None, pl.col("res_start_d"), death_end),
        *[
            _spells(
                p_work.filter(pl.col("pension_scheme") == s),
                [s],
                "region_code",
                "employer_id",
                pl.col("job_start_d"),
                pl.col("retire_d"),
            )
            for s in ("110", "120")
        ],
        _spells(p_work, ["310"], "region_code", None, pl.col("retire_d") + 1, death_end),
        _spells(
            p.filter(pl.col("pension_scheme") == "170"),
            ["170"],
            "region_code",
            None,
            pl.col("job_start_d"),
            pl.col("retire_d"),
        ),
        _spells(
            p.filter(pl.col("pension_scheme") == "170"), ["390"], "region_code", None, pl.col("retire_d") + 1, death_end
        ),
        _spells(u, emp, "region_code", "employer_id", pl.col("job_start_d"), pl.col("job_end_d")),
        _spells(u, ["390"], "region_code", None, pl.col("job_end_d") + 1, None),
    ]
    df = pl.concat(parts).sort("pidx", "start_date", "scheme", maintain_order=True)
    return df.select(
        (pl.lit("CB") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(10)).alias("enrollment_id"),
        "person_id",
        "name",
        "gender",
        "birth_date",
        "region_code",
        "scheme",
        "employer_id",
        "start_date",
        "end_date",
    )


def _monthly(df: pl.DataFrame, first_mi: pl.Expr, last_mi: pl.Expr) -> pl.DataFrame:
    months = pl.DataFrame({"mi": list(range(YEAR_MI, YEAR_MI + 12))}, schema={"mi": pl.Int64})
    return (
        df.with_columns(first_mi.alias("_f"), last_mi.alias("_l"))
        .join(months, how="cross")
        .filter((pl.col("mi") >= pl.col("_f")) & (pl.col("mi") <= pl.col("_l")))
        .drop("_f", "_l")
    )


def _payments(df: pl.DataFrame, scheme: pl.Expr, btype: str, amount: str, day: int) -> pl.DataFrame:
    return df.select(
        "pidx",
        "person_id",
        "region_code",
        scheme.alias("scheme"),
        pl.lit(btype).alias("benefit_type"),
        period_of_mi(pl.col("mi")).alias("period"),
        pl.col(amount).alias("amount"),
        pl.col("account").alias("bank_account"),
    )


def build_payments(facts: pl.DataFrame) -> pl.DataFrame:
    """Benefit payments (待遇发放明细): pensions, unemployment, injury, maternity, death grants."""
    cat = pl.col("category")
    death_mi = mi_expr(pl.col("death_date"))
    facts = facts.select(
        "pidx",
        "category",
        "person_id",
        "region_code",
        "account",
        "pension_scheme",
        "pension_fen",
        "dies",
        "death_date",
        "funeral_fen",
        "survivor_fen",
        "unemp_fen",
        "unemp_first_mi",
        "unemp_last_mi",
        "injured",
        "injury_fen",
        "maternity",
        "maternity_fen",
        "maternity_period",
    )
    p = facts.filter(cat == "P")
    pensions = _monthly(p, pl.lit(YEAR_MI), pl.coalesce(death_mi, pl.lit(YEAR_MI + 11)))
    dead = p.filter(pl.col("dies")).with_columns(pl.min_horizontal(death_mi + 1, pl.lit(YEAR_MI + 11)).alias("mi"))
    unemp = _monthly(facts.filter(cat == "U"), pl.col("unemp_first_mi"), pl.col("unemp_last_mi"))
    injury = _monthly(facts.filter(pl.col("injured")), pl.lit(YEAR_MI), pl.lit(YEAR_MI + 11))
    mat = facts.filter(pl.col("maternity")).with_columns(
        (pl.col("maternity_period") // 100 * 12 + pl.col("maternity_period") % 100 - 1).cast(pl.Int64).alias("mi")
    )
    parts = [
        _payments(pensions, pl.col("pension_scheme"), "pension", "pension_fen", 15),
        _payments(dead, pl.col("pension_scheme"), "funeral", "funeral_fen", 20),
        _payments(dead, pl.col("pension_scheme"), "survivor", "survivor_fen", 20),
        _payments(unemp, pl.lit("210"), "unemployment", "unemp_fen", 10),
        _payments(injury, pl.lit("410"), "injury", "injury_fen", 20),
        _payments(mat, pl.lit("510"), "maternity", "maternity_fen", 20),
    ]
    df = pl.concat(parts).sort("period", "pidx", "benefit_type", maintain_order=True)
    day = pl.col("benefit_type").replace_strict({"pension": 15, "unemployment": 10}, default=20, return_dtype=pl.Int32)
    return df.select(
        (pl.lit(f"FF{YEAR}") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(9)).alias("payment_id"),
        "person_id",
        "region_code",
        "scheme",
        "benefit_type",
        "period",
        "amount",
        "bank_account",
        day_in_period(pl.col("period"), day).alias("pay_date"),
        (pl.lit("PC") + pl.col("region_code") + pl.col("period").cast(pl.String) + pl.col("scheme")).alias("batch_id"),
    )


def build_disbursements(rng: Rng, payments: pl.DataFrame) -> pl.DataFrame:
    """The bank's successful result for every payment (代发回盘)."""
    lag = rng.integers("disb:lag", payments.height, 0, 2)
    return payments.select(
        "payment_id",
        "bank_account",
        "amount",
        pl.lit("success").alias("status"),
        (pl.col("pay_date") + pl.duration(days=lag)).alias("settled_date"),
    )


def build_payroll(rng: Rng, facts: pl.DataFrame) -> pl.DataFrame:
    """Monthly wage declarations (个税扣缴申报) of employees, civil servants, and the unemployed before job loss."""
    cat = pl.col("category")
    job_mi = mi_expr(date_of_days(pl.col("job_start_d")))
    facts = facts.select("pidx", "category", "person_id", "employer_id", "wage_fen", "job_start_d", "job_end_mi")
    working = facts.filter(cat.is_in(["E", "C"]))
    w = _monthly(working, pl.max_horizontal(job_mi, pl.lit(YEAR_MI)), pl.lit(YEAR_MI + 11))
    lost = _monthly(facts.filter(cat == "U"), pl.lit(YEAR_MI), pl.col("job_end_mi"))
    df = pl.concat([w, lost]).sort("mi", "pidx", maintain_order=True)
    wiggle = rng.uniform("payroll:wiggle", df.height)
    return df.with_columns(wiggle.alias("_w")).select(
        "employer_id",
        "person_id",
        period_of_mi(pl.col("mi")).alias("period"),
        (pl.col("wage_fen") * (950 + (pl.col("_w") * 100).floor().cast(pl.Int64)) // 1000).alias("wage_income"),
    )


def build_contributions(payroll: pl.DataFrame, employers: pl.DataFrame) -> pl.DataFrame:
    """Assessed contributions (缴费核定) per employer, scheme and period, computed from payroll."""
    parts = []
    for kind, rates in (("E", ENTERPRISE_RATES), ("C", PUBLIC_RATES)):
        ids = employers.filter(pl.col("kind") == kind).select("employer_id")
        sub = payroll.join(ids, on="employer_id", how="semi")
        agg = sub.group_by("employer_id", "period", maintain_order=True).agg(
            *[(pl.col("wage_income") * rate // 10_000).sum().alias(s) for s, rate in rates.items()],
            pl.len().cast(pl.Int64).alias("headcount"),
        )
        parts.append(
            agg.unpivot(
                index=["employer_id", "period", "headcount"],
                on=list(rates),
                variable_name="scheme",
                value_name="amount_due",
            )
        )
    df = pl.concat(parts).sort("employer_id", "period", "scheme")
    return df.select("employer_id", "scheme", "period", "amount_due", "headcount")


def build_tax(rng: Rng, contributions: pl.DataFrame) -> pl.DataFrame:
    """Tax vouchers (征收入库) collecting each assessment exactly; 8 % split in 2-3 vouchers."""
    n = contributions.height
    u = rng.uniform("tax:split", n)
    n_split = pl.when(u < 0.05).then(2).when(u < 0.08).then(3).otherwise(1)
    df = (
        contributions.with_columns(
            n_split.cast(pl.Int64).alias("n_split"),
            rng.integers("tax:day", n, 5, 26).alias("day"),
        )
        .with_columns(pl.int_ranges(0, pl.col("n_split")).alias("j"))
        .explode("j")
    )
    j = pl.col("j").cast(pl.Int64)
    part = (pl.col("amount_due") * (j + 1) // pl.col("n_split")) - (pl.col("amount_due") * j // pl.col("n_split"))
    nxt = pl.col("period") % 100 == 12
    coll_year = pl.when(nxt).then(pl.col("period") // 100 + 1).otherwise(pl.col("period") // 100)
    coll_month = pl.when(nxt).then(1).otherwise(pl.col("period") % 100 + 1)
    return df.select(
        (pl.lit("SP") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(11)).alias("voucher_no"),
        "employer_id",
        "scheme",
        "period",
        part.alias("amount_collected"),
        pl.date(coll_year, coll_month, pl.col("day")).alias("collected_date"),
    )


def build_claims(rng: Rng, facts: pl.DataFrame, n_claims: int) -> pl.DataFrame:
    """Medical claims (医保结算明细), unique invoice numbers, no same person/hospital/date/total twice."""
    pick = rng.integers("claims:person", n_claims, 0, facts.height)
    people = facts.select("person_id", "region_code", "death_date")[pick]
    service = rng.integers("claims:date", n_claims, days(dt.date(YEAR, 1, 1)), days(dt.date(YEAR, 12, 31)) + 1)
    total = (8_000 + (rng.uniform("claims:total", n_claims) ** 3 * 3_000_000).floor()).cast(pl.Int64)
    ratio = rng.integers("claims:ratio", n_claims, 55, 86)
    hosp = rng.integers("claims:hospital", n_claims, 0, 20)
    df = people.with_columns(
        pl.Series("service_d", service),
        pl.Series("total_amount", total),
        pl.Series("ratio", ratio),
        pl.Series("h", hosp),
        pl.int_range(n_claims, eager=True).cast(pl.Int64).alias("i"),
    )
    df = df.with_columns(
        pl.min_horizontal(date_of_days(pl.col("service_d")), pl.coalesce(pl.col("death_date"), pl.lit(None))).alias(
            "service_date"
        ),
        (pl.lit("H") + pl.col("region_code") + pl.col("h").cast(pl.String).str.zfill(3)).alias("hospital_id"),
    ).unique(["person_id", "hospital_id", "service_date", "total_amount"], keep="first", maintain_order=True)
    return df.select(
        (pl.lit(f"JS{YEAR}") + pl.col("i").cast(pl.String).str.zfill(10)).alias("claim_id"),
        "person_id",
        "region_code",
        "hospital_id",
        (pl.lit("ZJFP") + ((pl.col("i") * 9973 + 77) % 10**12).cast(pl.String).str.zfill(12)).alias("invoice_no"),
        "service_date",
        "total_amount",
        (pl.col("total_amount") * pl.col("ratio") // 100).alias("fund_paid"),
    )


def build_business_log(rng: Rng, facts: pl.DataFrame, n_bus: int) -> pl.DataFrame:
    """Workflow steps (经办业务日志): accept→review→recheck→approve→pay by five distinct operators."""
    region = rng.choice("bus:region", n_bus, REGION_CODES, [r[2] for r in REGIONS])
    large = rng.uniform("bus:large", n_bus) < 0.03
    small_amt = rng.integers("bus:small", n_bus, 5_000, 5_000_000)
    large_amt = rng.integers("bus:big", n_bus, 10_000_000, 80_000_000)
    k = rng.integers("bus:k", n_bus, 0, 6)
    leader = rng.integers("bus:leader", n_bus, 6, 8)
    by_leader = rng.uniform("bus:by_leader", n_bus) < 0.5
    t0 = rng.integers("bus:t0", n_bus, 0, 355 * 86_400)
    gap = rng.integers("bus:gap", n_bus, 1_800, 86_400)
    who = rng.integers("bus:person", n_bus, 0, facts.height)
    has_person = rng.uniform("bus:has_person", n_bus) < 0.7
    btype = rng.choice("bus:type", n_bus, BUSINESS_TYPES)
    df = pl.DataFrame(
        {
            "region": region,
            "large": large,
            "amount": large_amt.zip_with(large, small_amt),
            "k": k,
            "leader": leader,
            "by_leader": by_leader,
            "t0": t0,
            "gap": gap,
            "person_id": facts["person_id"].gather(who),
            "has_person": has_person,
            "business_type": btype,
        }
    ).with_columns(pl.int_range(1, pl.len() + 1).alias("b"))
    stages = pl.DataFrame({"stage": list(STAGES), "j": list(range(5))})
    df = df.join(stages, how="cross")
    j = pl.col("j")
    op_n = (
        pl.when(j == 3)
        .then(pl.when(pl.col("large") | pl.col("by_leader")).then(pl.col("leader")).otherwise((pl.col("k") + 4) % 6))
        .when(j == 4)
        .then((pl.col("k") + 3) % 6)
        .otherwise((pl.col("k") + j) % 6)
    )
    start = dt.datetime(YEAR, 1, 1, 8, 0, 0)
    return df.select(
        (pl.lit(f"YW{YEAR}") + pl.col("b").cast(pl.String).str.zfill(9)).alias("business_id"),
        "business_type",
        "stage",
        (pl.lit("OP") + pl.col("region") + op_n.cast(pl.String).str.zfill(2)).alias("operator_id"),
        (pl.lit(start) + pl.duration(seconds=pl.col("t0") + j * pl.col("gap")))
        .dt.cast_time_unit("us")
        .alias("operated_at"),
        pl.when(pl.col("has_person")).then(pl.col("person_id")).alias("person_id"),
        "amount",
    )


def build_special_movements(rng: Rng, accounts: pl.DataFrame, reps: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Matching finance-ledger (财政专户明细账) and bank-statement lines of the special accounts."""
    special = accounts.filter(pl.col("account_type") == "special").select("scheme", pl.col("account_no").alias("s_acc"))
    other = accounts.filter(pl.col("account_type") != "special").select(
        "scheme", "region_code", "account_type", pl.col("account_no").alias("o_acc")
    )
    grid = (
        other.join(special, on="scheme")
        .join(pl.DataFrame({"month": list(range(1, 13))}), how="cross")
        .join(pl.DataFrame({"rep": list(range(reps))}), how="cross")
    )
    n = grid.height
    amount = (rng.integers("mov:amount", n, 2_500_000, 250_000_000) * 2).rename("amount")
    day = rng.integers("mov:day", n, 1, 29)
    shift = rng.integers("mov:shift", n, -2, 3)
    df = (
        grid.with_columns(amount, pl.Series("day", day), pl.Series("shift", shift))
        .with_columns(
            pl.when(pl.col("account_type") == "income").then(pl.lit("in")).otherwise(pl.lit("out")).alias("direction"),
            pl.date(YEAR, pl.col("month"), pl.col("day")).alias("txn_date"),
        )
        .unique(["s_acc", "direction", "amount"], keep="first", maintain_order=True)
        .sort("txn_date", "s_acc", "o_acc", "rep", maintain_order=True)
    )
    df = df.with_columns(
        (pl.col("txn_date") + pl.duration(days=pl.col("shift"))).alias("entry_date"),
        pl.when(pl.col("direction") == "in")
        .then(pl.lit("收入户划入"))
        .otherwise(pl.lit("拨付支出户"))
        .alias("summary"),
        pl.int_range(1, pl.len() + 1).alias("k"),
    )
    ledger = df.select(
        (pl.lit(f"PZ{YEAR}") + pl.col("k").cast(pl.String).str.zfill(8)).alias("entry_id"),
        pl.col("s_acc").alias("account_no"),
        "entry_date",
        "direction",
        "amount",
        "scheme",
        pl.col("o_acc").alias("counterparty_account"),
        "summary",
    )
    cp_name = pl.lit("社会保险基金") + pl.when(pl.col("account_type") == "income").then(pl.lit("收入户")).otherwise(
        pl.lit("支出户")
    )
    special_side = df.select(
        pl.col("s_acc").alias("account_no"),
        "txn_date",
        "direction",
        "amount",
        pl.col("o_acc").alias("counterparty_account"),
        cp_name.alias("counterparty_name"),
        "summary",
        "k",
    )
    mirror = df.select(
        pl.col("o_acc").alias("account_no"),
        "txn_date",
        pl.when(pl.col("direction") == "in").then(pl.lit("out")).otherwise(pl.lit("in")).alias("direction"),
        "amount",
        pl.col("s_acc").alias("counterparty_account"),
        pl.lit("社会保险基金财政专户").alias("counterparty_name"),
        "summary",
        "k",
    )
    bank = pl.concat([special_side, mirror]).sort("txn_date", "k", "account_no", maintain_order=True)
    bank = bank.select(
        (pl.lit(f"YH{YEAR}") + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(10)).alias("txn_id"),
        "account_no",
        "txn_date",
        "direction",
        "amount",
        "counterparty_account",
        "counterparty_name",
        "summary",
    )
    return ledger, bank


def build_deaths(rng: Rng, facts: pl.DataFrame) -> pl.DataFrame:
    """Death notices (死亡信息): one source, and for a quarter a second source a few days later."""
    dead = facts.filter(pl.col("dies")).select("pidx", "person_id", "name", "death_date")
    n = dead.height
    sources = ["police", "civil", "health"]
    first = rng.integers("death:source", n, 0, 3)
    second = (first + rng.integers("death:other", n, 1, 3)) % 3
    twice = rng.uniform("death:twice", n) < 0.25
    later = rng.integers("death:later", n, 0, 6)
    df = dead.with_columns(
        pl.Series("s1", first), pl.Series("s2", second), pl.Series("twice", twice), pl.Series("later", later)
    )
    a = df.select(
        "pidx",
        "person_id",
        "name",
        "death_date",
        pl.col("s1").replace_strict(list(range(3)), sources, return_dtype=pl.String).alias("source"),
    )
    b = df.filter(pl.col("twice")).select(
        "pidx",
        "person_id",
        "name",
        # the later notice stays inside YEAR (a date after the run's as-of would be quarantined)
        pl.min_horizontal(
            pl.col("death_date") + pl.duration(days=pl.col("later")), pl.lit(dt.date(YEAR, 12, 31))
        ).alias("death_date"),
        pl.col("s2").replace_strict(list(range(3)), sources, return_dtype=pl.String).alias("source"),
    )
    return pl.concat([a, b]).sort("pidx", "death_date", maintain_order=True).drop("pidx")


# Sentence types of background custody, cycled so that every one appears in a small province; a pensioner
# only gets one that leaves 2025 untouched (a community sentence, or custody that ended before 2025).
CUSTODY_TYPES = ("detention", "imprisonment", "life", "death_suspended", "suspended", "surveillance")
PENSIONER_CUSTODY_TYPES = ("suspended", "surveillance", "imprisonment", "detention")
CUSTODY_SHARE = 0.002
CUSTODY_MIN = 12  # persons in a small province, so that every sentence type is there


def build_custody(rng: Rng, facts: pl.DataFrame) -> pl.DataFrame:
    """Custody records (服刑人员信息) of a few background persons: every sentence type, some released, some
    without end date.  Finding-free: only category P is paid a pension, and a pensioner's custody either
    does not stop a pension (缓刑, 管制) or ended before YEAR (released in 2024 at the latest)."""
    people = facts.select("pidx", "category", "person_id", "name", "birth_date")
    share = max(CUSTODY_SHARE, CUSTODY_MIN / max(people.height, 1))
    picked = people.filter(rng.uniform("custody:pick", people.height) < share)
    n = picked.height
    pensioner = pl.col("category") == "P"
    k = pl.int_range(pl.len()).over(pensioner)
    kind = (
        pl.when(pensioner)
        .then(k.mod(4).replace_strict(list(range(4)), list(PENSIONER_CUSTODY_TYPES), return_dtype=pl.String))
        .otherwise(k.mod(6).replace_strict(list(range(6)), list(CUSTODY_TYPES), return_dtype=pl.String))
    )
    df = picked.with_columns(
        kind.alias("sentence_type"),
        rng.uniform("custody:start", n).alias("u_start"),
        rng.uniform("custody:length", n).alias("u_len"),
        rng.uniform("custody:open", n).alias("u_open"),
    )
    typ, u_start, u_len = pl.col("sentence_type"), pl.col("u_start"), pl.col("u_len")
    adult = birth_plus(18)

    def start_in(first: dt.date, last: dt.date) -> pl.Expr:
        return pl.max_horizontal(adult, uniform_days(u_start, pl.lit(days(first)), pl.lit(days(last))))

    old_end = days(dt.date(YEAR - 1, 12, 31))
    start = (
        pl.when(pensioner & typ.is_in(["imprisonment", "detention"]))
        .then(uniform_days(u_start, pl.lit(days(dt.date(2008, 1, 1))), pl.lit(days(dt.date(2020, 12, 31)))))
        .when(typ == "detention")
        .then(start_in(dt.date(YEAR - 1, 6, 1), dt.date(YEAR, 10, 31)))
        .when(typ == "imprisonment")
        .then(start_in(dt.date(2012, 1, 1), dt.date(YEAR, 11, 30)))
        .when(typ.is_in(["life", "death_suspended"]))
        .then(start_in(dt.date(2005, 1, 1), dt.date(YEAR - 1, 12, 31)))
        .when(typ == "suspended")
        .then(start_in(dt.date(YEAR - 3, 1, 1), dt.date(YEAR, 11, 30)))
        .otherwise(start_in(dt.date(YEAR - 2, 1, 1), dt.date(YEAR, 11, 30)))
    )
    df = df.with_columns(start.alias("start_d"))
    length = (
        pl.when(typ == "detention")
        .then(30 + (u_len * 150).floor())
        .when(typ == "imprisonment")
        .then(365 + (u_len * 3000).floor())
        .when(typ == "suspended")
        .then(365 + (u_len * 730).floor())
        .otherwise(90 + (u_len * 640).floor())
        .cast(pl.Int64)
    )
    end = (
        pl.when(typ.is_in(["life", "death_suspended"]))
        .then(None)
        .when(pensioner & typ.is_in(["imprisonment", "detention"]))
        .then(pl.min_horizontal(pl.col("start_d") + length, pl.lit(old_end)))
        # a third of the prison terms still running with no release date recorded
        .when((typ == "imprisonment") & (pl.col("u_open") < 0.35))
        .then(None)
        .otherwise(pl.col("start_d") + length)
    )
    return (
        df.with_columns(end.alias("end_d"))
        .sort("start_d", "pidx")
        .select(
            "person_id",
            "name",
            "sentence_type",
            date_of_days(pl.col("start_d")).alias("start_date"),
            date_of_days(pl.col("end_d")).alias("end_date"),
        )
    )
