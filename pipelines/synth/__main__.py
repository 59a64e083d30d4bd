"""``python -m pipelines.synth --persons N --out DIR [--seed S] [--clean]``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .generate import generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.synth", description="Write a synthetic inbox.")
    parser.add_argument("--persons", type=int, required=True, help="number of persons in the province")
    parser.add_argument("--out", type=Path, required=True, help="inbox folder to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    parser.add_argument("--clean", action="store_true", help="no dirt: UTF-8 CSV, English headers, no bad rows")
    args = parser.parse_args(argv)
    summary = generate(args.persons, args.out, seed=args.seed, dirty=not args.clean)
    json.dump(summary, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
