"""fundwatch: the nightly cross-checking pipeline of a social-insurance fund supervision office."""

import os

# fundwatch runs offline: no telemetry, no analytics, before Prefect is ever imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Without a Prefect server configured, `fundwatch run` starts Prefect's temporary one and waits for it
# 20 s by default; on a busy 2-core machine (a benchmark, a report being written) that start took longer.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
