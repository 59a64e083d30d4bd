"""`python -m pipelines …` is `fundwatch …`."""

import sys

from pipelines.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
