"""The leases suite (CONTRACT.md): exclusive begins under the writers' flock, keep-alive
and release only while the marker carries the lease's token, and crash safety because
the kernel frees a dead holder's flock. Its parts, each in a module of its own:

  lease_faults.py  an unwritable home (as nobody), errnos injected into the lock file's
                   open and flock and into each step of a lease's write and removal
  lease_crash.py   SIGKILL at every system call of begin, keep-alive and release, and
                   of `drainctl run -- sleep 5` at moments of its life
  lease_race.py    loop-lease processes of every language that has the lease commands,
                   and loop-read readers of every language, on one home

lease_common.py holds what they share (who takes part: LOOPERS, KILLED).
"""

import os
from pathlib import Path

from common import T
from lease_common import lease_probes
from lease_crash import drainctl_kills, lease_crash
from lease_faults import lease_faults
from lease_race import lease_race


def leases_suite(probes: dict, base: Path, long: bool, rng) -> None:
    T.suite = "leases"
    leasers = lease_probes(probes, base)
    if not T.check("c" in leasers and "rust" in leasers, "the C and Rust probes must have the lease commands"):
        return
    lease_faults(probes, leasers, base, long)
    lease_crash(probes, leasers, base, long)
    drainctl_kills(probes, os.environ.get("DRAINCTL"), base, long, rng)
    lease_race(probes, leasers, base, long)
