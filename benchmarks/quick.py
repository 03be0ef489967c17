"""`--quick`: every benchmark script's few-seconds run, which `tests/test_benchmarks_run.py` runs so that
no script can rot between the measurements. Its figures are not measurements: they say so."""

from __future__ import annotations

import argparse
from typing import Any

QUICK_BANNER = "quick run: checks that the script works; these figures are not a measurement"


def add_quick(parser: argparse.ArgumentParser, **values: Any) -> None:
    """Add `--quick`, which sets these options (whatever else the command line says)."""
    shown = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in values.items())
    parser.add_argument(
        "--quick", action="store_true", help=f"a few seconds' check that the script runs ({shown})"
    )
    parser.set_defaults(quick_values=values)


def apply_quick(args: argparse.Namespace) -> argparse.Namespace:
    if args.quick:
        for name, value in args.quick_values.items():
            setattr(args, name, value)
        print(QUICK_BANNER, flush=True)
    return args
