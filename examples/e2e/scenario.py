"""The steps of the end-to-end demo (run.py), in order: what the dashboard does, and
what every participant must then report (Demo.step checks and prints it)."""

from __future__ import annotations

import json
import secrets
import socket
import sys
import threading
import time
import uuid

from common import MAX_AGE, MEANING, clock, iso, now
from demo import Demo


def run(demo: Demo) -> None:
    """Every step, one after the other."""
    demo.step("start: each participant reports the state it finds", "", demo.launched, "absent")

    t0, took, _ = demo.drainctl("begin", "--principal", "ops-dashboard")
    demo.step("the dashboard begins a drain", "$ drainctl begin --principal ops-dashboard",
              t0, "active", f"the command took {took:.1f} ms")

    t0, took, _ = demo.drainctl("begin", "--principal", "ops-dashboard", "--suppress-notification")
    demo.step("the dashboard asks the gateway to skip its broadcast",
              "$ drainctl begin --principal ops-dashboard --suppress-notification",
              t0, "suppressed", f"the command took {took:.1f} ms")

    t0, took, _ = demo.drainctl("cancel")
    demo.step("the dashboard cancels the drain", "$ drainctl cancel", t0, "absent",
              f"the command took {took:.1f} ms")

    if demo.epoch:
        before = f"{uuid.uuid4()}:{secrets.randbelow(90000) + 10000}"
        t0 = demo.plant(epoch=before, requested_at=now() - 120, principal="before-the-restart")
        demo.step("a marker left by a previous machine instantiation (it survived a restart "
                  "on a durable volume)",
                  f"(written by hand: epoch {before!r}, 2 min ago)", t0, "epoch-stale")
    else:
        demo.say("\n(no epoch on this machine: the previous-instantiation case cannot occur)")

    t0 = demo.plant(epoch=demo.epoch, requested_at=now() - 2 * 3600, principal="forgotten")
    demo.step("a marker written two hours ago, never cancelled",
              "(written by hand: this epoch, requested_at 2 h ago)", t0, "expired")

    t0, took, _ = demo.drainctl("cancel")
    demo.step("the dashboard cleans up", "$ drainctl cancel", t0, "absent",
              f"the command took {took:.1f} ms")

    # A drain nobody keeps alive: it expires in front of everyone, with no file event.
    requested = now() - MAX_AGE + demo.margin
    t0 = demo.plant(epoch=demo.epoch, requested_at=requested, principal="ops-dashboard")
    demo.step(f"a drain begun 59 min {60 - demo.margin:.1f} s ago that nobody keeps alive",
              f"(written by hand: requested_at {iso(requested)[11:23]}, expires in "
              f"{demo.margin:.1f} s)", t0, "active")
    expiry = requested + MAX_AGE
    demo.step("... its hour is up: it expires without any file event (the watchers' own "
              "wake-up)", f"(deadline {clock(expiry)}; times below are after the deadline)",
              expiry, "expired")

    # The same, kept alive by the dashboard's re-write before the deadline.
    requested = now() - MAX_AGE + demo.margin
    t0 = demo.plant(epoch=demo.epoch, requested_at=requested, principal="ops-dashboard")
    demo.step("another old drain, expiring in a moment", f"(written by hand: expires in "
              f"{demo.margin:.1f} s)", t0, "active")
    time.sleep(demo.margin / 3)
    t0, took, _ = demo.drainctl("begin", "--principal", "ops-dashboard")
    keep = demo.step("the dashboard re-writes the marker (the keep-alive)",
                     "$ drainctl begin --principal ops-dashboard", t0, None,
                     f"the command took {took:.1f} ms")
    old_deadline = requested + MAX_AGE
    if t0 + took / 1000 >= old_deadline:
        demo.fail("this machine was too slow: the keep-alive came after the old deadline")
    time.sleep(max(0.0, old_deadline + 1.0 - now()))
    gateway = demo.participants[0]
    keep_alives = [s for s in gateway.since(keep.t0) if s.keep_alive]
    if keep_alives:
        k = keep_alives[0]
        demo.say(f"      {demo.ms(k.t - keep.t0):>10}  {'gateway':<15} keep-alive seen "
                 f"({k.detail}); the others report nothing: nothing changed for them")
        keep.latencies["gateway"] = (k.t - keep.t0) * 1000
    else:
        demo.fail("the gateway (every_change=True) did not report the keep-alive re-write")
        keep.latencies["gateway"] = None
    quiet = demo.quiet_since(keep.t0)
    states = {p.name: p.state() for p in demo.participants}
    alive = all(state == "active" for state in states.values())
    _, _, status = demo.drainctl("--json", "status")
    expires = json.loads(status).get("expires_at") or "?"
    demo.say(f"      at the old deadline + 1 s ({clock(old_deadline + 1)}): "
             + ", ".join(f"{n} {MEANING[s] if s else s}" for n, s in states.items()))
    demo.say(f"      drainctl status: draining, now expires at {expires[11:19]} UTC")
    if not (alive and quiet):
        demo.fail("the re-write did not keep the drain alive for every participant")
    for p in demo.participants:
        keep.latencies.setdefault(p.name, 0.0 if alive and quiet else None)

    t0, took, _ = demo.drainctl("cancel")
    demo.step("the dashboard cancels the drain", "$ drainctl cancel", t0, "absent",
              f"the command took {took:.1f} ms")

    migrate_when_idle(demo)


def migrate_when_idle(demo: Demo) -> None:
    """Drain, wait for the turns in flight, migrate, release: the operator's recipe. A
    user's long turn is in flight when `drainctl run --wait-idle` begins the drain; the
    migration (a command printing when it started) must start only once the gateway's
    gateway_state.json says nothing is in flight, and within moments of it."""
    reply: dict[str, float | str] = {}

    def long_turn() -> None:
        with socket.create_connection(("127.0.0.1", demo.client.port), timeout=30) as sock:
            sock.sendall(b"turn long-1 1000\n")
            reply["text"] = sock.makefile("rb").readline().decode().strip()
            reply["t"] = now()

    user = threading.Thread(target=long_turn, daemon=True)
    user.start()
    gateway = demo.participants[0]
    deadline = time.monotonic() + demo.patience
    while time.monotonic() < deadline and not any(
        "turn:long-1" in (e.get("active_work") or []) for _, e in gateway.other
    ):
        time.sleep(0.005)
    migration = "import time; print(repr(time.time()))"
    t0, took, out = demo.drainctl(
        "run", "--principal", "ops-migration", "--wait-idle=30", "--", sys.executable, "-c", migration
    )
    demo.step(
        "a user's long turn is in flight; the dashboard drains, waits for it, migrates, releases",
        "$ drainctl run --principal ops-migration --wait-idle=30 -- <migration>",
        t0,
        "absent",
        f"the command took {took:.0f} ms",
    )
    user.join(5)
    quiesced = [
        e["t"]
        for _, e in gateway.other
        if e.get("event") == "record" and e["t"] >= t0 and e.get("gateway_state") == "draining"
        and not e.get("active_work")
    ]
    try:
        started = float(out.splitlines()[-1])
    except (IndexError, ValueError):
        demo.fail(f"the migration printed no start time: {out!r}")
        return
    # The drain ends once the migration exits, inside the command: a moment before that
    # release, for the turns on their way when it came.
    demo.marks.append(started)
    if reply.get("text") != "served long-1":
        demo.fail(f"the long turn was not served: {reply.get('text')!r}")
    if not quiesced:
        demo.fail("the gateway never wrote a record saying draining with nothing in flight")
        return
    waited = started - quiesced[0]
    demo.say(f"      {demo.ms(quiesced[0] - t0):>10}  {'gateway':<15} record: draining, nothing in flight")
    demo.say(f"      {demo.ms(started - t0):>10}  {'migration':<15} started, {waited * 1000:.1f} ms later")
    if not 0 <= waited < 0.5:
        demo.fail(f"the migration started {waited * 1000:.1f} ms after the gateway went idle "
                  "(expected: after it, within 500 ms)")
