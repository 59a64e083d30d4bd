"""fundwatch: the nightly cross-checking pipeline of a social-insurance fund supervision office."""

import os

# fundwatch runs offline: no telemetry, no analytics, before Prefect is ever imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
