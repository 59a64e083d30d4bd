"""The application shell: the only place that reads settings, parses arguments, prints, or touches Prefect.

* `settings`        the one typed `Settings`, read from the environment once; `today()` in Asia/Shanghai;
* `cli`, `commands` `fundwatch` and its subcommands (one module each);
* `console`         every table and line printed (rich), `progress` what a run shows while it runs;
* `flow`            the nightly Prefect flow and its tasks; `summary` runs it and reports the published file;
* `schedule`        the served deployment (cron 02:00 Asia/Shanghai); `prefect_server` a local Prefect server.

The shell uses every phase below it; nothing uses the shell.
"""
