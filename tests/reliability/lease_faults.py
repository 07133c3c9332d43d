"""Lease faults: a home its writer may not write (as nobody, through copies staged by
nobody.stage_for_user), and errnos injected by strace into the lock file's open and
flock, the home's creation, and each step of a lease's write and removal. Each failure
names the errno, the step ("lock" for the lock file, as drain_step_name says it), the
path acted on and the marker; the marker stays as it was (or, past the rename, is the
new one), no temp file is left and the lock is free."""

import errno as errnos
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from common import ERRNOS, T, marker_of, raw_marker, snapshot, temps, traced_calls
from faults import STEP_OF, names_failure
from lease_common import KILLED, KILLED_LONG, LOCK, lease_payload, lock_free
from lease_crash import MINE, put_state
from nobody import public_folder, stage_for_user

LOCK_TEXT = "locking the writers' lock file"  # Step::Lock's description in every message
FLOCK_ERRNOS = ["ENOLCK", "EIO"]
WRITE_STEPS = {"create temp", "write temp", "fsync temp", "rename", "open folder", "fsync folder", "unlink"}


def names_lock_failure(out: dict, home: Path, errno_value: int) -> Optional[str]:
    """None if out is the failure of a lease operation at the lock file: the errno, the
    step "lock", the lock file as the path, the marker named, untouched."""
    marker = str(marker_of(home))
    if out.get("ok") is not False or out.get("status") != "io_error" or out.get("errno") != errno_value:
        return f"want io_error with errno {errno_value} ({os.strerror(errno_value)})"
    if out.get("step") != "lock" or out.get("path") != str(home / LOCK) or out.get("marker") != marker:
        return f"want the step lock, the path {str(home / LOCK)!r} and the marker {marker!r}"
    message = out.get("message") or ""
    if LOCK_TEXT not in message or f'drain marker "{marker}"' not in message or out.get("marker_untouched") is not True:
        return f"the message names neither the step nor the marker, or the marker is not untouched: {message!r}"
    return None


# name: (arguments, the state before, whether a successful run writes, removes or keeps).
SCENARIOS = {
    "begin into an empty home": (["begin", "HOME", "new"], "empty", "new lease"),
    "begin into a missing home": (["begin", "HOME", "new"], "missing", "new lease"),
    "begin over an expired marker": (["begin", "HOME", "new"], "expired", "new lease"),
    "keep-alive of its own lease": (["keep-alive", "HOME", MINE], "own", "kept"),
    "release of its own lease": (["release", "HOME", MINE], "own", "absent"),
}


def injected(probe, name: str, scenario: str, argv: list, state: str, home: Path, call, err: str, new: str) -> None:
    old = put_state(home, state)
    lock_existed = (home / LOCK).exists()
    what = f"{name} {scenario}: {err} at {call.step} ({call.name} #{call.when})"
    r = probe.run(*argv, strace=["-e", f"inject={call.name}:error={err}:when={call.when}"])
    out = r.out or {}
    after = raw_marker(home)
    errno_value = getattr(errnos, err)
    T.check(temps(home) == [] and lock_free(home), f"{what}: temp files left ({temps(home)}) or the lock held")
    T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{what}: {r.stderr[-400:]!r}")
    if (call.step == "open lock" and err == "EACCES" and lock_existed) or (call.step == "flock" and err == "EINTR") \
            or call.step == "sweep":
        # Another user's lock file is opened read-only (reading is enough to lock it);
        # an interrupted flock is tried again; the sweep is housekeeping.
        ok = out.get("ok") is True and (after is None if new == "absent" else lease_payload(after) is not None)
        T.check(ok, f"{what}: want the operation to succeed: {r.stdout.strip()[:400]!r}")
        return
    if call.step in ("open lock", "flock"):
        wrong = names_lock_failure(out, home, errno_value)
    elif out.get("ok") is not False or out.get("errno") != errno_value or out.get("status") != "io_error":
        wrong = f"want io_error with errno {errno_value}"
    else:
        wrong = names_failure(name, out, home, argv[0], STEP_OF[call.step])
    T.check(wrong is None, f"{what}: {wrong}: {r.stdout.strip()[:500]!r}")
    if call.step in ("fsync folder", "open folder"):
        # The known gap: the rename (or the removal) is done; a folder fsync cannot undo it.
        done = after is None if new == "absent" else lease_payload(after) is not None
        T.check(done, f"{what}: the marker is {after!r}")
    else:
        T.check(after == (old or None), f"{what}: the marker changed: {old!r} -> {after!r}")
        if state == "missing" and call.step == "create home":
            T.check(not home.exists(), f"{what}: the home was created anyway")


def inject_faults(leasers: dict, base: Path, long: bool) -> int:
    runs = 0
    for name in [n for n in KILLED + (KILLED_LONG if long else []) if n in leasers]:
        probe = leasers[name]
        home = base / f"lease-faults-{name}" / "home"
        for scenario, (args, state, new) in SCENARIOS.items():
            argv = [home if a == "HOME" else a for a in args]
            calls = traced_calls(probe, argv, lambda: put_state(home, state))
            targets = []
            for call in calls:
                if LOCK in call.text and call.name in ("openat", "open"):
                    call.step = "open lock"
                    targets += [(call, err) for err in ERRNOS]
                elif call.name == "flock":
                    call.step = "flock"
                    targets += [(call, err) for err in FLOCK_ERRNOS + ["EINTR"]]
                elif call.step == "create home" and state == "missing" and "EEXIST" not in call.text:
                    targets += [(call, err) for err in ("EACCES", "EIO")]
                elif call.step in WRITE_STEPS or (call.step == "sweep" and long):
                    targets += [(call, err) for err in (ERRNOS if long else ["EIO"])]
            steps = sorted({c.step for c, _ in targets})
            T.check({"open lock", "flock"} <= set(steps), f"{name} {scenario}: no lock among the traced calls {steps}")
            for call, err in targets:
                injected(probe, name, scenario, argv, state, home, call, err, new)
                runs += 1
    return runs


def unwritable_home(leasers: dict, base: Path) -> None:
    """As nobody, in a home owned by root (0755): begin cannot create the lock file, so
    it fails at the step lock with EACCES (not written: nothing); with root's lock file
    there it locks (read-only) and fails creating the temp file; keep-alive and release
    of a lease there fail the same way; a missing home fails at create_home."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        T.skip("not root, or no setpriv: the unwritable home (as nobody) is not tested")
        return
    public = public_folder()
    if not T.check(public is not None, "neither /var/tmp nor /tmp can be entered by other users"):
        return
    area = Path(tempfile.mkdtemp(prefix="drain-reliability-lease-", dir=public))
    try:
        os.chmod(area, 0o755)
        users = stage_for_user({n: p for n, p in leasers.items() if n in KILLED}, area / "probes")
        for name, probe in users.items():
            home = area / f"home-{name}"
            cases = [
                ("begin, no lock file", "empty", ["begin", home, "nobody"], "lock", str(home / LOCK)),
                ("begin, root's lock file", "locked", ["begin", home, "nobody"], "create_temp", "TEMP"),
                ("keep-alive of root's lease", "own", ["keep-alive", home, MINE], "create_temp", "TEMP"),
                ("release of root's lease", "own", ["release", home, MINE], "remove", str(marker_of(home))),
                ("begin into a missing home", "missing", ["begin", home / "sub", "nobody"], "create_home",
                 str(home / "sub")),
            ]
            for what, state, args, step, path in cases:
                put_state(home, "empty" if state == "locked" else state)
                if state == "locked":
                    (home / LOCK).touch()
                if state == "missing":
                    home.mkdir(exist_ok=True)
                os.chmod(home, 0o755)
                for p in home.iterdir():
                    os.chmod(p, 0o644)
                before = snapshot(area / f"home-{name}")
                r = probe.run(*args, user=True)
                out = r.out or {}
                what = f"unwritable home: {name} {what}"
                target = Path(args[1])
                if step == "lock":
                    wrong = names_lock_failure(out, target, errnos.EACCES)
                elif out.get("ok") is not False or out.get("errno") != errnos.EACCES:
                    wrong = f"want errno {errnos.EACCES} ({os.strerror(errnos.EACCES)})"
                else:
                    wrong = names_failure(name, out, target, args[0], step, want_path=None if path == "TEMP" else path)
                T.check(wrong is None, f"{what}: {wrong}: {r.stdout.strip()[:500]!r} {r.stderr[-300:]!r}")
                T.check(snapshot(area / f"home-{name}") == before, f"{what}: the disk changed")
                T.check(lock_free(home), f"{what}: the lock is held")
    finally:
        shutil.rmtree(area, ignore_errors=True)


def lease_faults(probes: dict, leasers: dict, base: Path, long: bool) -> None:
    unwritable_home(leasers, base)
    runs = inject_faults(leasers, base, long)
    print(f"  leases: {runs} injected failures", flush=True)
