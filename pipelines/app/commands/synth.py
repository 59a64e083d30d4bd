"""`fundwatch synth`: a synthetic inbox with planted findings and their truth (合成数据)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.app import console
from pipelines.app.settings import Settings

NAME = "synth"


def add_parser(sub: argparse._SubParsersAction, settings: Settings) -> None:
    p = sub.add_parser(NAME, help="write a synthetic inbox with planted findings (合成数据)")
    p.add_argument("--persons", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clean", action="store_true", help="no dirt: UTF-8 CSV, canonical values, no bad rows")
    p.add_argument(
        "--batch",
        action="store_true",
        help="also a payment batch to screen, OUT/_batch/payment_batch.csv, and its truth (待发放批次)",
    )
    p.add_argument(
        "--finding-share",
        type=float,
        default=None,
        metavar="SHARE",
        help="a finding-dense inbox (a bad year): findings planted for about SHARE of persons, e.g. 0.07 "
        "(default: the generator's own ~0.76%%; at most 0.2) (高发现密度)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.synth import generate

    try:
        summary = generate(
            args.persons,
            args.out,
            seed=args.seed,
            dirty=not args.clean,
            batch=args.batch,
            finding_share=args.finding_share,
        )
    except ValueError as exc:  # persons too few, a share out of range: a usage error
        console.error(f"fundwatch synth: 参数错误 usage: {exc}")
        return 2
    console.write([f"{key}: {value}" for key, value in summary.items()])
    return 0
