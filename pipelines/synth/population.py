"""People, employers, operators and fund accounts of the synthetic province.

Everything here is vectorised over all persons.  Person categories:

* ``E`` employee of an enterprise (110/210/310/410/510 with employer)
* ``C`` civil servant / public institution (120/310)
* ``R`` rural-urban resident (170/390)
* ``P`` pensioner (pension from 110, 120 or 170)
* ``U`` unemployed, drawing unemployment benefit (210)
* ``X`` reserved for planted findings: no background rows at all
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .constants import (
    BANKS,
    BIRTH_COUNTIES,
    BIRTH_COUNTY_SLOTS,
    GIVEN_CHARS,
    PROVINCE_CODE,
    REGION_CODES,
    REGIONS,
    SURNAMES,
)
from .ids import check_digit_expr
from .rng import Rng

EPOCH = dt.date(1970, 1, 1)
CATEGORY_WEIGHTS = {"E": 45, "C": 5, "R": 25, "P": 18, "U": 7}
# Birth ranges per category (inclusive years).
BIRTH_YEARS = {
    "E": (1966, 2004),
    "C": (1966, 2002),
    "R": (1950, 2004),
    "P": (1940, 1964),
    "U": (1966, 2003),
    "X": (1950, 1999),
}
# The years every person is born in: a mistyped ID that encodes another year has no candidate by accident.
BORN = (min(a for a, _ in BIRTH_YEARS.values()), max(b for _, b in BIRTH_YEARS.values()))


def days(d: dt.date) -> int:
    """Days since the Unix epoch (the physical value of a polars Date)."""
    return (d - EPOCH).days


def account_expr(idx: pl.Expr, seed: int) -> pl.Expr:
    """A unique 19-digit personal bank account per index (a bijection mod 10**13)."""
    body = ((idx * 7919 + 1_234_567 + seed * 104_729) % 10**13).cast(pl.String).str.zfill(13)
    return pl.lit("621733") + body


def names_series(rng: Rng, stream: str, n: int, surnames: str = SURNAMES) -> pl.Series:
    """n random Chinese names: surname + one or two given characters."""
    sur = pl.Series(list(surnames)).gather(rng.integers(f"{stream}:sur", n, 0, len(surnames)))
    g1 = pl.Series(list(GIVEN_CHARS)).gather(rng.integers(f"{stream}:g1", n, 0, len(GIVEN_CHARS)))
    g2 = pl.Series(list(GIVEN_CHARS)).gather(rng.integers(f"{stream}:g2", n, 0, len(GIVEN_CHARS)))
    two = rng.uniform(f"{stream}:two", n) < 0.7
    return pl.DataFrame({"s": sur, "a": g1, "b": g2, "t": two}).select(
        (pl.col("s") + pl.col("a") + pl.when(pl.col("t")).then(pl.col("b")).otherwise(pl.lit(""))).alias("name")
    )["name"]


def build_persons(
    rng: Rng, persons: int, n_plant: int, seq_base: int = 0, seq_span: int = 500, surnames: str = SURNAMES
) -> pl.DataFrame:
    """All persons: category, region, gender, birth date, unique valid ID, name, own account.

    The sequence part of the IDs is drawn from `seq_base + [0, seq_span)`: the parts of a
    province generated in parts (`generate`) get disjoint ranges, so their IDs never collide;
    they get disjoint `surnames` too, so no two of their persons share a name (一人多号).
    """
    n_bg = persons - n_plant
    cats = rng.choice("persons:category", n_bg, list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))
    category = pl.concat([cats, pl.Series(["X"] * n_plant)]).rename("category")
    region = rng.choice("persons:region", persons, REGION_CODES, [r[2] for r in REGIONS])
    gender = rng.choice("persons:gender", persons, ["1", "2"])
    lo = {k: days(dt.date(a, 1, 1)) for k, (a, _) in BIRTH_YEARS.items()}
    hi = {k: days(dt.date(b, 12, 31)) for k, (_, b) in BIRTH_YEARS.items()}
    u_birth = rng.uniform("persons:birth", persons)
    native = rng.uniform("persons:native", persons) < 0.85
    other_region = rng.choice("persons:birth_region", persons, REGION_CODES)
    county = rng.choice("persons:county", persons, [str(i) for i in range(BIRTH_COUNTY_SLOTS)])
    u_seq = rng.integers("persons:seq", persons, 0, seq_span)
    df = pl.DataFrame(
        {
            "pidx": pl.int_range(persons, eager=True).cast(pl.Int64),
            "category": category,
            "region_code": region,
            "gender": gender,
            "u_birth": u_birth,
            "native": native,
            "other_region": other_region,
            "county": county,
            "u_seq": u_seq,
        }
    )
    lo_e = pl.col("category").replace_strict(lo, return_dtype=pl.Int64)
    hi_e = pl.col("category").replace_strict(hi, return_dtype=pl.Int64)
    df = df.with_columns(
        (lo_e + (pl.col("u_birth") * (hi_e - lo_e)).floor().cast(pl.Int64))
        .cast(pl.Int32)
        .cast(pl.Date)
        .alias("birth_date"),
        (pl.when(pl.col("native")).then(pl.col("region_code")).otherwise(pl.col("other_region")) + pl.col("county"))
        .replace_strict(
            {city + str(i): code for city, codes in BIRTH_COUNTIES.items() for i, code in enumerate(codes)},
            return_dtype=pl.String,
        )
        .alias("birth_county"),
    )
    # Sequence: unique within (county, birth date, gender); odd for men, even for women.
    grp = ["birth_county", "birth_date", "gender"]
    df = df.with_columns(
        (
            (pl.col("u_seq").first().over(grp, order_by="pidx") + pl.int_range(pl.len()).over(grp, order_by="pidx"))
            % seq_span
            + seq_base
        ).alias("seq_n")
    )
    seq = (pl.col("seq_n") * 2 + pl.when(pl.col("gender") == "1").then(1).otherwise(0)).cast(pl.String).str.zfill(3)
    first17 = pl.col("birth_county") + pl.col("birth_date").dt.strftime("%Y%m%d") + seq
    df = df.with_columns(first17.alias("first17"))
    df = df.with_columns((pl.col("first17") + check_digit_expr(pl.col("first17"))).alias("person_id"))
    df = df.with_columns(
        unique_names(rng, df.select("pidx", "birth_date", "gender"), surnames).alias("name"),
        account_expr(pl.col("pidx"), rng.seed).alias("account"),
    )
    return df.select("pidx", "category", "region_code", "gender", "birth_date", "person_id", "name", "account")


def unique_names(rng: Rng, people: pl.DataFrame, surnames: str = SURNAMES) -> pl.Series:
    """A random name per person, no two alike among persons of one birth date and gender.

    Two IDs of one name, birth date and gender that are both paid a pension make a DUP_IDENTITY
    finding (一人多号); only plants may have them, so a namesake drawn by chance (a few hundred in a
    million) is drawn again, in plain Python.
    """
    df = people.with_columns(names_series(rng, "persons:name", people.height, surnames).alias("name"))
    # df is in pidx order: the first of a name keeps it
    again = df.with_row_index("i").filter(~pl.struct("name", "birth_date", "gender").is_first_distinct())
    if again.height == 0:
        return df["name"]
    taken: dict[tuple, set[str]] = {}
    near = df.join(again.select("birth_date", "gender").unique(), on=["birth_date", "gender"], how="semi")
    for name, birth, gender in near.select("name", "birth_date", "gender").iter_rows():
        taken.setdefault((birth, gender), set()).add(name)
    py = rng.py("persons:name:again")
    names = df["name"].to_list()
    for i, birth, gender in again.select("i", "birth_date", "gender").iter_rows():
        used = taken[(birth, gender)]
        name = names[i]
        while name in used:
            name = py.choice(surnames) + py.choice(GIVEN_CHARS) + py.choice(GIVEN_CHARS)
        used.add(name)
        names[i] = name
    return pl.Series("name", names)


def build_employers(rng: Rng, persons: int) -> pl.DataFrame:
    """Employers per region: enterprises (kind E) and public institutions (kind C)."""
    total_w = sum(r[2] for r in REGIONS)
    rows = []
    for code, _name, weight in REGIONS:
        n_ent = max(3, persons * weight // total_w // 30)
        n_pub = max(2, n_ent // 12)
        rows += [(f"DW{code}{i:06d}", code, "E") for i in range(n_ent)]
        rows += [(f"DW{code}{500000 + i:06d}", code, "C") for i in range(n_pub)]
    return pl.DataFrame(rows, schema=["employer_id", "region_code", "kind"], orient="row")


def pick_employer(
    df: pl.DataFrame, employers: pl.DataFrame, kind: pl.Expr, region: str, u: pl.Series, out: str
) -> pl.DataFrame:
    """Add column ``out``: a random employer of the given kind in the row's region ``region``."""
    emp = employers.with_columns(pl.int_range(pl.len()).over("region_code", "kind").alias("k"))
    counts = emp.group_by("region_code", "kind", maintain_order=True).len("n_emp")
    tmp = df.with_columns(kind.alias("_kind"), u.alias("_u")).join(
        counts, left_on=[region, "_kind"], right_on=["region_code", "kind"], how="left", maintain_order="left"
    )
    tmp = tmp.with_columns((pl.col("_u") * pl.col("n_emp")).floor().cast(pl.UInt32).alias("k"))
    tmp = tmp.join(
        emp.select("region_code", "kind", pl.col("k").cast(pl.UInt32), pl.col("employer_id").alias(out)),
        left_on=[region, "_kind", "k"],
        right_on=["region_code", "kind", "k"],
        how="left",
        maintain_order="left",
    )
    return tmp.drop("_kind", "_u", "n_emp", "k")


def build_operators(rng: Rng) -> pl.DataFrame:
    """Per region: six business operators, two leaders, one admin, one auditor."""
    roles = ["business"] * 6 + ["leader"] * 2 + ["admin", "auditor"]
    rows = [(f"OP{code}{i:02d}", code, role) for code in REGION_CODES for i, role in enumerate(roles)]
    df = pl.DataFrame(rows, schema=["operator_id", "region_code", "role"], orient="row")
    return df.with_columns(names_series(rng, "operators:name", df.height).alias("name")).select(
        "operator_id", "name", "region_code", "role"
    )


def build_fund_accounts(rng: Rng) -> pl.DataFrame:
    """Registered fund accounts: one special account per scheme, income/expenditure per region."""
    schemes = ["110", "120", "170", "210", "310", "390", "410", "510"]
    rows = []
    for j, s in enumerate(schemes):
        rows.append((f"3301040{j:02d}9000{s}", "special", s, PROVINCE_CODE))
        for i, code in enumerate(REGION_CODES):
            rows.append((f"19{code}{s}{i:02d}1", "income", s, code))
            rows.append((f"19{code}{s}{i:02d}2", "expenditure", s, code))
    df = pl.DataFrame(rows, schema=["account_no", "account_type", "scheme", "region_code"], orient="row")
    opened = rng.integers("accounts:opened", df.height, days(dt.date(2000, 1, 1)), days(dt.date(2015, 12, 31)))
    return df.with_columns(
        rng.choice("accounts:bank", df.height, BANKS).alias("bank_name"),
        opened.cast(pl.Int32).cast(pl.Date).alias("opened_date"),
        pl.lit(None, dtype=pl.Date).alias("closed_date"),
    )
