"""The lease race: loop-lease processes of every language that has the lease commands
(lease_common.LOOPERS) and a loop-read reader of every language, on one home. Among
writers that all take the lock, two leases are never active at once, so: every release
removes its own marker, no keep-alive finds its lease lost, the times of one lease's
log lines (all taken while its marker exists) never overlap another's, every read is
absent or a whole leased payload some begin wrote, every begin returns within the
lock's bound, and the lock is free at the end."""

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import T, raw_marker, temps
from lease_common import LOCK_WAIT_US, LOOPERS, SLACK_US, TOKEN_RE, lease_body, lock_free


@dataclass
class Lease:
    token: str
    principal: str
    who: str
    begun: float  # the log time of begun: after begin returned
    released: float = -1.0  # the log time of released: before the release call
    removed: list = field(default_factory=list)  # what each release reported
    kept: list = field(default_factory=list)  # "kept", "lost ...", "keep-busy"


@dataclass
class Looper:
    name: str
    tag: str
    leases: list = field(default_factory=list)
    begins: list = field(default_factory=list)  # (event, us) of every begin
    errors: list = field(default_factory=list)


def read_log(looper: Looper, path: Path) -> None:
    """The events of one loop-lease log (README.md), the n-th begin being TAG-n's."""
    n = 0
    current = None
    for line in path.read_text().splitlines():
        when_text, _, rest = line.partition(" ")
        when = float(when_text)
        event, _, args = rest.partition(" ")
        words = args.split(" ")
        if event.startswith("!"):
            looper.errors.append(line)
            if args.startswith("begin"):
                n += 1
        elif event in ("held", "busy"):
            n += 1
            looper.begins.append((event, int(words[0])))
        elif event == "begun":
            n += 1
            looper.begins.append((event, int(words[1])))
            current = Lease(words[0], f"{looper.tag}-{n}", looper.name, when)
            looper.leases.append(current)
        elif current is None or words[0] != current.token:
            looper.errors.append(f"{line} (no lease {words[0]} begun before it)")
        elif event in ("kept", "lost", "keep-busy"):
            current.kept.append(rest)
        elif event == "release-busy":
            pass
        elif event == "released":
            current.released = when
            current.removed.append(words[1])
        else:
            looper.errors.append(f"{line} (an unknown event)")


def race_once(probes: dict, leasers: dict, base: Path, seconds: float, run_id: int, pause: int) -> None:
    what = f"lease race {run_id}"
    home = base / f"lease-race-{run_id}"
    logs = base / f"lease-race-{run_id}-logs"
    for folder in (home, logs):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    loopers = [Looper(f"{name}-{i}", f"{name}{i}") for name in leasers for i in range(1, LOOPERS[name] + 1)]
    readers = [r for r in ("python", "c", "go", "rust") if r in probes]
    # Absolute deadlines, so that a slow start (Python's imports) shortens nobody's run.
    start = time.time() + (2.0 if "python" in probes else 1.0)
    procs = {}
    for looper in loopers:
        probe = leasers[looper.name.split("-")[0]]
        procs[looper.name] = probe.popen("loop-lease", home, looper.tag, f"@{start + seconds:.6f}",
                                         logs / f"{looper.name}.log", str(pause))
    for reader in readers:
        procs[f"{reader}-reader"] = probes[reader].popen("loop-read", home, f"@{start + seconds + 0.5:.6f}",
                                                         logs / f"{reader}-reader.out")
    results = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=seconds + 60)
        lines = [line for line in out.decode().splitlines() if line.startswith("{")]
        results[name] = json.loads(lines[-1]) if lines else None
        T.check(p.returncode == 0 and results[name] is not None and results[name].get("failures") == 0,
                f"{what}: {name} exited {p.returncode}: {out.decode()[-300:]!r} {err.decode()[-500:]!r}")

    leases = []
    for looper in loopers:
        read_log(looper, logs / f"{looper.name}.log")
        T.check(looper.errors == [], f"{what}: {looper.name}: {looper.errors[:5]}")
        leases += looper.leases
        for event, us in looper.begins:
            T.check(us <= LOCK_WAIT_US + SLACK_US, f"{what}: {looper.name}: a begin ({event}) took {us / 1e6:.3f} s")
            if event == "busy":
                # Busy only once the whole bound was waited (CONTRACT.md, "The lock").
                T.check(us >= LOCK_WAIT_US * 0.99, f"{what}: {looper.name}: busy after {us / 1e6:.3f} s")
    tokens: dict = {}
    for lease in leases:
        T.check(lease.token not in tokens, f"{what}: the token {lease.token} was begun twice")
        tokens[lease.token] = lease
        # Every keep-alive found its lease (or the lock busy); every release removed it.
        T.check(all(k.split(" ")[0] in ("kept", "keep-busy") for k in lease.kept) and len(lease.kept) == 1,
                f"{what}: {lease.who}'s lease {lease.token}: keep-alive {lease.kept}: another lease was active, "
                "or another writer replaced or removed this one")
        T.check(lease.removed == ["true"], f"{what}: {lease.who}'s lease {lease.token}: release reported "
                f"removed={lease.removed}: its marker was gone or another's")
    # The times of one lease's lines lie while its marker exists: intervals of leases
    # that were never active at once are disjoint.
    ordered = sorted(leases, key=lambda lease: lease.begun)
    for before, after in zip(ordered, ordered[1:]):
        T.check(before.released >= before.begun and before.released < after.begun,
                f"{what}: {before.who}'s lease {before.token} ({before.begun:.6f} to {before.released:.6f}) "
                f"overlaps {after.who}'s {after.token} (begun {after.begun:.6f})")

    reads = distinct = 0
    for reader in readers:
        reads += (results.get(f"{reader}-reader") or {}).get("reads", 0)
        for line in (logs / f"{reader}-reader.out").read_text().splitlines():
            distinct += 1
            if line == "null":
                continue
            try:
                body = json.loads(line)
            except ValueError:
                body = None
            lease = tokens.get(body.get("owner_token")) if isinstance(body, dict) else None
            ok = lease_body(body, ordered=reader != "go") and lease is not None \
                and body["principal"] == lease.principal and body["suppress_notification"] is False
            T.check(ok, f"{what}: {reader} read {line[:300]!r}, not a whole leased payload a begin wrote")
    raw = raw_marker(home)
    T.check(raw is None, f"{what}: every lease was released, yet the marker is {raw!r}")
    T.check(temps(home) == [], f"{what}: temp files left: {temps(home)}")
    T.check(lock_free(home), f"{what}: the lock is still held after every process exited")
    T.check(all(TOKEN_RE.match(t) for t in tokens), f"{what}: a token is not 32 hex digits")
    counts = ", ".join(f"{lo.name} {len(lo.leases)}/{len(lo.begins)}" for lo in loopers)
    held = sum(1 for lo in loopers for e, _ in lo.begins if e == "held")
    busy = [(lo.name, e) for lo in loopers for e, _ in lo.begins if e == "busy"]
    kept_busy = sum(1 for lease in leases for k in lease.kept if k.startswith("keep-busy"))
    print(f"  lease race {run_id}: {seconds:.0f}s, pause {pause} ms; leases/begins {counts}; {held} held, "
          f"{len(busy)} busy begins, {kept_busy} busy keep-alives; {len(readers)} readers ({', '.join(readers)}): "
          f"{reads} reads, {distinct} changes seen", flush=True)
    if busy or kept_busy:
        T.note(f"{what}: {len(busy)} begins and {kept_busy} keep-alives waited the whole 5 s bound and were "
               "busy while other writers kept taking the lock (polling with LOCK_NB is not fair)")


def lease_race(probes: dict, leasers: dict, base: Path, long: bool) -> None:
    for name in ("go", "python"):
        if name in probes and name not in leasers:
            T.note(f"the {name} probe reads in the lease race but runs no loop-lease (no lease commands yet)")
    # The default run pauses 1 ms after each call (leases from every process
    # interleave); --long alternates with runs that pause not at all, where a process
    # that keeps taking the lock can make another's begin wait its whole bound (busy).
    runs = [(30.0, 1 if i % 2 == 0 else 0) for i in range(10)] if long else [(10.0, 1)]
    for run_id, (seconds, pause) in enumerate(runs):
        race_once(probes, leasers, base, seconds, run_id, pause)
