"""The subcommands of `fundwatch`, one module each.

Every module has `NAME`, `add_parser(sub, settings)` (its arguments; defaults from the settings) and
`run(args, settings) -> int` (the exit status). `pipelines.app.cli.COMMANDS` lists them; a new command
is one module here and one line there.
"""
