"""`python -m pipelines …` is `fundwatch …` (the same launcher: pipelines.app.launch)."""

from pipelines.app.launch import console

if __name__ == "__main__":
    console()
