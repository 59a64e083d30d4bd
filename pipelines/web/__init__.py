"""The analysts' web workbench (issue 13, docs/workbench.md, docs/adr/0020-web-workbench.md).

A server-rendered FastAPI + Jinja2 application over the case register (SQLite, read and written per request) and
the published DuckDB file (opened read-only per request, so a nightly swap is picked up and never blocked).
`pipelines.app.commands.web` serves it (`fundwatch web`); nothing here reads the environment, prints, or parses
arguments: the command hands a `WebConfig` down.
"""
