#!/usr/bin/env python3
"""The end-to-end demonstration of drain-control (the README's main command runs it
through scripts/demo, which builds everything first).

In a temporary home it starts, each in its own process:

- the gateway: examples/gateway.py, Python, the installed wheel's async watcher; it
  serves simulated turns over TCP and refuses them while draining;
- the C sidecar (examples/c-sidecar, ``--watch``: the C watcher ABI) and the Go sidecar
  (examples/go-sidecar, ``-watch``: the Go Watcher); a build without the watch mode is
  run polling (the C one once a second, the Go one every 20 ms), and the demo says so;
- ``drainctl watch --json``, the Rust watcher, as the operator's own view;
- a client (a thread here) sending the gateway a turn every few milliseconds.

Then, as the dashboard, it drives ``drainctl`` (and, for the two markers that no current
dashboard could write, a small hand-made atomic write): begin a drain, ask to suppress
the notice, cancel; a marker left by a previous machine instantiation; a marker from two
hours ago; a drain nobody keeps alive expiring in front of everyone; and one kept alive
by a re-write past its old deadline. Every participant reports each change on its
stdout (JSON lines, or the sidecars' own line format); this script stamps each line as
it arrives and prints who saw what, how many milliseconds after the dashboard's write.

Exit status: 0 only if every participant saw every transition (and the client's turns
were served or refused as the gateway's state said), 1 otherwise, with one line per
problem; 2 on bad arguments or a participant that would not start.

The parts, beside this file: common.py (the contract's numbers, the clock),
participants.py (the processes and their line formats), client.py (the turns),
demo.py (the machinery: the dashboard's commands, each step's timeline, the end)
and scenario.py (the steps, in order).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import scenario
from demo import Demo


def main() -> int:
    parser = argparse.ArgumentParser(description="The drain-control end-to-end demo.")
    parser.add_argument("--drainctl", required=True)
    parser.add_argument("--c-sidecar", required=True)
    parser.add_argument("--go-sidecar", required=True)
    parser.add_argument("--python", default=sys.executable, help="the gateway's interpreter (with the wheel)")
    parser.add_argument("--gateway", default=os.path.join(os.path.dirname(__file__), "..", "gateway.py"))
    parser.add_argument("--quick", action="store_true", help="shorter expiry waits (for CI)")
    parser.add_argument("--patience", type=float, default=5.0, help="seconds to wait for each report")
    parser.add_argument("--pace", type=float, default=None,
                        help="seconds between two steps (default 0.3, with --quick 0.1)")
    parser.add_argument("--keep-home", action="store_true")
    parser.add_argument("--sabotage", metavar="NAME", help="self-test: run participant NAME on "
                        "another home, so that it misses everything and the demo must fail")
    args = parser.parse_args()
    if args.pace is None:
        args.pace = 0.1 if args.quick else 0.3

    demo = Demo(args)
    print("drain-control end-to-end demo: a dashboard, a gateway and three watchers, "
          "each in its own process", flush=True)
    try:
        if not demo.start():
            demo.stop()
            return 2
        scenario.run(demo)
        total, served, refused = demo.check_turns()
    finally:
        demo.stop()
        demo.cleanup()
    demo.summary()
    elapsed = time.monotonic() - demo.started
    if elapsed > 60:
        demo.failures.append(f"the demo took {elapsed:.0f} s, over its budget of a minute")
    print(f"\nclient: {total} turns, {served} served, {refused} refused while draining")
    transitions = sum(1 for s in demo.steps[1:])
    if demo.failures:
        print(f"\nFAILED in {elapsed:.1f} s: {len(demo.failures)} problem(s):")
        for failure in demo.failures:
            print(f"  - {failure}")
        return 1
    print(f"\nOK in {elapsed:.1f} s: all {len(demo.participants)} participants saw all "
          f"{transitions} steps; every turn was served or refused as the gateway's state said.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
