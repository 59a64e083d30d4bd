"""Every `fundwatch …` command line the README and the docs show parses as written (options where the parser
expects them, choices that exist): a reader copying one gets the command, not a usage error."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from pipelines.app.cli import build_parser
from pipelines.app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/workbench.md", "docs/analyst.md")
COMMAND = re.compile(r"^\s*(?:\.venv/bin/)?fundwatch\s+(.*)$")


def documented() -> list[tuple[str, int, str]]:
    found = []
    for name in DOCS:
        inside = False
        for number, line in enumerate((ROOT / name).read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                inside = not inside
                continue
            if not (inside or line.startswith("    ")):
                continue
            match = COMMAND.match(line)
            if match and "…" not in match.group(1) and "[" not in match.group(1):
                text = match.group(1).split(" #")[0].strip()
                found.append((name, number, text))
    return found


COMMANDS = documented()


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 15 and any(n == "docs/workbench.md" for n, _, _ in COMMANDS)


@pytest.mark.parametrize(("doc", "line", "text"), COMMANDS, ids=[f"{n}:{i}" for n, i, _ in COMMANDS])
def test_a_documented_command_parses(doc, line, text):
    parser = build_parser(Settings.from_env())
    try:
        parser.parse_args(shlex.split(text.replace('"$USER"', "someone")))
    except SystemExit as exit_:
        pytest.fail(f"{doc}:{line}: `fundwatch {text}` does not parse (exit {exit_.code})")
