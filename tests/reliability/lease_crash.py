"""Lease crashes: SIGKILL at every system call of begin, keep-alive and release (strace
injection, as the crash suite's), and of `drainctl run -- sleep 5` at moments of its
life. A dead holder's flock is freed by the kernel, so afterwards the lock is free, and
the marker is the old state or the new one, whole."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from common import EPOCH, T, fresh_dir, marker_of, raw_marker, sweep_check, temps, traced_calls
from lease_common import KILLED, KILLED_LONG, LOCK, lease_payload, lock_free

MINE = "0123456789abcdef0123456789abcdef"  # the lease the probe keeps alive or releases
OTHER = "fedcba9876543210fedcba9876543210"  # another lease's
EXIT_HELD = 75  # drainctl: another drain is active (CONTRACT.md, "drainctl")


def leased(principal: str, token: str) -> bytes:
    """A leased marker of now, as a lease writes it (lease_payload accepts it)."""
    body = {"action": "drain", "requested_at": now_iso(), "principal": principal,
            "epoch": EPOCH, "suppress_notification": False, "owner_token": token}
    return json.dumps(body, indent=2, ensure_ascii=False).encode()


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}+00:00"


def expired() -> bytes:
    body = {"action": "drain", "requested_at": "2000-01-01T00:00:00+00:00", "principal": "expired",
            "epoch": EPOCH, "suppress_notification": False}
    return json.dumps(body, indent=2).encode()


# name: (arguments, the old state, what may follow besides the old state). The states:
# "empty" a home with neither marker nor lock file; "missing" no home; "expired" a
# plain marker past its hour; "own" the lease MINE's marker; "other" another lease's
# (which no operation of MINE may change).
SCENARIOS = {
    "begin into an empty home": (["begin", "HOME", "new"], "empty", "new lease"),
    "keep-alive of its own lease": (["keep-alive", "HOME", MINE], "own", "kept"),
    "release of its own lease": (["release", "HOME", MINE], "own", "absent"),
    "begin into a missing home": (["begin", "HOME", "new"], "missing", "new lease"),
    "begin over an expired marker": (["begin", "HOME", "new"], "expired", "new lease"),
    "begin over another lease (held)": (["begin", "HOME", "new"], "other", None),
    "keep-alive of a lease lost to another": (["keep-alive", "HOME", MINE], "other", None),
    "release of a lease lost to another": (["release", "HOME", MINE], "other", None),
}


def put_state(home: Path, state: str) -> bytes:
    """Makes home hold state; returns the marker's bytes (b"" for none)."""
    shutil.rmtree(home, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    if state == "missing":
        return b""
    home.mkdir()
    if state == "empty":
        return b""
    (home / LOCK).touch()
    raw = {"expired": expired, "own": lambda: leased("mine", MINE), "other": lambda: leased("other", OTHER)}[state]()
    marker_of(home).write_bytes(raw)
    return raw


def old_or_new(raw, old: bytes, new) -> bool:
    if raw == (old or None):
        return True
    if new == "new lease":
        return lease_payload(raw, "new") is not None
    if new == "kept":
        return lease_payload(raw, "mine", MINE) is not None
    return new == "absent" and raw is None


def lease_crash(probes: dict, leasers: dict, base: Path, long: bool) -> None:
    killers = [n for n in KILLED + (KILLED_LONG if long else []) if n in leasers]
    kills = leftovers = 0
    for name in killers:
        probe = leasers[name]
        for scenario, (args, state, new) in SCENARIOS.items():
            home = base / f"lease-crash-{name}" / "home"
            old = put_state(home, state)
            argv = [home if a == "HOME" else a for a in args]
            calls = traced_calls(probe, argv, lambda: put_state(home, state))
            T.check(len(calls) >= 3, f"{name} {scenario}: only {len(calls)} system calls traced")
            locks = [c for c in calls if c.name == "flock"]
            T.check(len(locks) >= 1, f"{name} {scenario}: no flock among the calls traced")
            print(f"  leases: {name} {scenario}: SIGKILL at each of {len(calls)} system calls", flush=True)
            for call in calls:
                if call.name == "futex":
                    continue  # a wait on another thread: made or not, as the threads race
                old = put_state(home, state)
                what = f"{name} {scenario}, SIGKILL at {call.name} #{call.when} ({call.step})"
                r = probe.run(*argv, strace=["-e", f"inject={call.name}:signal=SIGKILL:when={call.when}"])
                kills += 1
                T.check(r.rc in (-9, 137), f"{what}: not killed (rc {r.rc}): the injection missed")
                raw = raw_marker(home)
                T.check(old_or_new(raw, old, new), f"{what}: the marker is {raw!r}")
                T.check(lock_free(home), f"{what}: the lock is held after its holder died")
                if temps(home):
                    leftovers += sweep_check(probes, home, what)
    print(f"  leases: {kills} kills at system calls, {leftovers} left a temp file (swept by the next write)", flush=True)


def drainctl_kills(probes: dict, drainctl, base: Path, long: bool, rng) -> None:
    """SIGKILL `drainctl run -- sleep 5` right after its start and while the command
    runs: the lock is free at once (the orphaned command holds no lock), the marker
    is the old state or the run's whole leased marker, and a later run says held
    (exit 75) while that drain stands (it expires in an hour: the documented
    behaviour of a killed run), or runs when there is none."""
    if not drainctl or not os.access(drainctl, os.X_OK):
        T.skip("no drainctl (DRAINCTL): `drainctl run` is not killed")
        return
    delays = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
    if long:
        delays += [rng.uniform(0.0, 0.2) for _ in range(40)]
    states = ["empty", "other"]
    kills = drains = orphans = 0
    for state in states:
        for i, delay in enumerate(delays):
            home = base / "lease-run" / "home"
            old = put_state(home, state)
            what = f"drainctl run killed {delay * 1000:.0f} ms after its start ({state} home, #{i + 1})"
            # Not a pipe: the orphaned command would hold it open for its 5 s.
            p = subprocess.Popen([drainctl, "run", "--home", str(home), "--", "sleep", "5"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            time.sleep(delay)
            p.kill()
            p.wait(timeout=30)
            kills += 1
            # Over another lease's drain, run refuses at once (75, held) unless killed first.
            T.check(p.returncode == -signal.SIGKILL or (state == "other" and p.returncode == EXIT_HELD),
                    f"{what}: exited {p.returncode} before the kill")
            T.check(lock_free(home), f"{what}: the lock is held (by the orphaned command?)")
            try:
                os.killpg(p.pid, signal.SIGKILL)  # the orphaned `sleep 5`, if it started
                orphans += 1
            except ProcessLookupError:
                pass
            raw = raw_marker(home)
            ok = raw == (old or None) or (state == "empty" and lease_payload(raw, "drainctl run") is not None)
            T.check(ok, f"{what}: the marker is {raw!r}")
            drains += raw is not None and raw != (old or None)
            r = subprocess.run([drainctl, "run", "--home", str(home), "--", "true"], capture_output=True, timeout=30)
            err = r.stderr.decode("utf-8", "replace")
            if raw is None:
                T.check(r.returncode == 0 and raw_marker(home) is None,
                        f"{what}: a later run exited {r.returncode} ({err[-300:]!r}) or left {raw_marker(home)!r}")
            else:
                holder = "drainctl run" if raw != old else "other"
                T.check(r.returncode == EXIT_HELD and raw_marker(home) == raw and holder in err,
                        f"{what}: a later run exited {r.returncode} ({err[-300:]!r}), want {EXIT_HELD} naming {holder!r}")
            T.check(lock_free(home), f"{what}: the lock is held after the later run")
    fresh_dir(base, "lease-run")
    print(f"  leases: drainctl run killed {kills} times; {drains} left their drain (held by a later run), "
          f"{orphans} left the command running (the lock was free all the same)", flush=True)
