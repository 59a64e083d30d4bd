"""`fundwatch`: the command line. The only place that parses arguments; every command is a module of
`pipelines.app.commands` listed in `COMMANDS`.

The settings are read from the environment once, here (`Settings.from_env`), and handed to the command.
Exit statuses: 0 done; 1 done, with bad input first seen in this run (`fundwatch run`: rows it quarantined or
files it rejected);
2 usage error (a bad argument or setting); 3 failed (`fundwatch run`: nothing published but the `failed`
row; `fundwatch runs`: the database is held by a running job); 4 another run holds the database
(`fundwatch run`: nothing done); 5 the case log is broken (`fundwatch case verify-log`); 6 refused by the
register (`fundwatch case`/`staff`: the role, the case's state, a date or amount it cannot accept).

Every file a command creates is private (`Settings.file_mode`, 0600 by default): the umask is set here.
"""

from __future__ import annotations

import argparse
import os

from pipelines.app.commands import (
    audit,
    blacklist,
    case,
    inspection,
    report,
    run,
    runs,
    screen,
    serve,
    staff,
    synth,
    token,
    web,
    withdraw,
)
from pipelines.app.console import error
from pipelines.app.settings import Settings, SettingsError

COMMANDS = (run, case, staff, report, runs, screen, blacklist, token, serve, synth, withdraw, web, audit, inspection)
EXIT_USAGE = 2


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fundwatch", description="社保基金监督 nightly cross-checks")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub, settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        error(f"fundwatch: 设置无效 invalid setting: {err}")
        return EXIT_USAGE
    os.umask(settings.umask)
    args = build_parser(settings).parse_args(argv)
    return args.handler(args, settings)
