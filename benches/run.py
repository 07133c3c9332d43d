"""The driver of scripts/bench: runs every row in alternation and prints the table.

Invoked by scripts/bench with the built programs; see BENCHMARKS.md. Every program
prints "NAME <value>" lines; each round runs every program once (in reverse order on
odd rounds), and a ratio is the median over rounds of the ratio within each round, so
drift between rounds hits both sides of a ratio alike.

The parts, beside this file: harness.py (running one program, the markers),
bench.py (the set-up, the rounds, the ratios) and report.py (the table).
"""

import argparse
import shutil
import time

from bench import Bench
from report import Report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--python", default="")
    parser.add_argument("--baseline", default="")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=60)
    parser.add_argument("--writes", type=int, default=15, help="single writes per round")
    parser.add_argument("--crowd", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--polls", type=int, default=1_000_000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        bench.rounds()
        bench.once()
        Report(bench).print_table(time.monotonic() - started)
    finally:
        shutil.rmtree(bench.scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
