#!/usr/bin/env python3
"""The reliability suites of drain-control (issue 6): crashes, races, faults, real
conditions, hostile input and leases, driven through the probe of every binding (C, Go,
Rust, Python; see README.md in this folder).

Usage: suite.py [--long] [--seed N] SUITE...   (SUITE: crash race faults real hostile leases all)

The probes are given by the environment (scripts/test-reliability builds them):
  PROBE_C, PROBE_GO, PROBE_RUST   paths of the compiled probes
  PROBE_PYTHON                    an interpreter that imports drain_control (optional:
                                  without it the Python participants are skipped, and
                                  the suite says so)
  DRAINCTL                        the drainctl binary (optional: the leases suite's
                                  `drainctl run` kills are skipped without it)
Every check is counted; the last line is "reliability: N checks, F failed, S skipped".
Exit status 0 only when nothing failed.

This file is the entry point; each suite lives in a module beside it (common.py holds
what they share).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from common import EPOCH, T, probes_from_env, seed_old
from crash import crash_suite
from faults import faults_suite
from hostile import hostile_suite
from leases import leases_suite
from race import race_suite
from real import real_suite

SUITES = ["hostile", "faults", "real", "crash", "race", "leases"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="+", choices=["crash", "race", "faults", "real", "hostile", "leases", "all"])
    parser.add_argument("--long", action="store_true", help="the long runs of RELIABILITY.md")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    suites = SUITES if "all" in args.suites else args.suites
    if shutil.which("strace") is None and ("crash" in suites or "faults" in suites or "leases" in suites):
        sys.exit("suite.py: strace is missing")
    probes = probes_from_env()
    print(f"reliability: probes {', '.join(probes)}; epoch {EPOCH!r}; seed {args.seed}", flush=True)
    if "python" not in probes:
        T.suite = "setup"
        T.note("no Python wheel (PROBE_PYTHON): the Python participants are skipped")
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="drain-reliability-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    os.chmod(base, 0o755)
    common.OLD_BYTES = seed_old(probes, base)
    try:
        for suite in suites:
            started = time.monotonic()
            T.suite = suite
            {"crash": lambda: crash_suite(probes, base, args.long, rng),
             "race": lambda: race_suite(probes, base, args.long),
             "faults": lambda: faults_suite(probes, base, args.long),
             "real": lambda: real_suite(probes, base),
             "hostile": lambda: hostile_suite(probes, base),
             "leases": lambda: leases_suite(probes, base, args.long, rng)}[suite]()
            T.suite = suite
            T.row()[3] = time.monotonic() - started
    finally:
        subprocess.run(["umount", "-l", str(base / "mnt")], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    print("\nreliability summary:")
    checks = failed = skipped = 0
    for suite, (c, f, s, secs) in T.rows.items():
        print(f"  {suite:8} {c:6} checks  {f:4} failed  {s:3} skipped  {secs:6.1f}s")
        checks, failed, skipped = checks + c, failed + f, skipped + s
    for note in T.notes:
        print(f"  note {note}")
    print(f"reliability: {checks} checks, {failed} failed, {skipped} skipped (seed {args.seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
