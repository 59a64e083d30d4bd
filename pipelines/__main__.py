"""`python -m pipelines …` is `fundwatch …`."""

import sys

from pipelines.app.cli import main

sys.exit(main())
