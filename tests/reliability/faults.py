"""The faults suite: errnos injected by strace into every system call of a write and a
clear, in every binding; each failure names the errno, the marker, the step and the path
acted on, and the old marker stays. names_failure is also the real and hostile suites'
judge of a failure."""

import errno as errnos
import os
import shutil
from pathlib import Path
from typing import Optional

from common import ERRNOS, TEMP_RE, T, link_target, marker_of, payload, put_old, put_old_linked, raw_marker, \
    temps, traced_calls


WRITE_STEPS = ["create home", "create temp", "keep owner", "keep mode", "write temp", "fsync temp",
               "rename", "open folder", "fsync folder", "sweep"]
CLEAR_STEPS = ["unlink", "open folder", "fsync folder"]
BEFORE_RENAME = {"create home", "create temp", "keep mode", "write temp", "fsync temp", "rename"}


# The suite's labels of a failing system call, as the step each binding names (the
# stable names of src/error.rs Step::as_str: C's drain_step_name, Go's MarkerError.Step
# and PathError.Op, Rust's Step, Python's strerror through probe.py).
STEP_OF = {"create home": "create_home", "create temp": "create_temp", "keep mode": "keep_mode",
           "write temp": "write_temp", "fsync temp": "sync_temp", "rename": "rename",
           "open folder": "sync_folder", "fsync folder": "sync_folder", "unlink": "remove"}
# What each step is called in a message (Step::describe): every binding's message names it.
STEP_TEXT = {"check_payload": "checking the payload", "create_home": "creating the home folder",
             "follow_link": "following the marker's link", "create_temp": "creating a temporary file",
             "keep_mode": "keeping the marker's mode on the temporary file",
             "write_temp": "writing the temporary file", "sync_temp": "flushing the temporary file",
             "rename": "renaming the new marker into place", "sync_folder": "flushing the folder",
             "remove": "removing the marker"}


def expected_path(step: str, home: Path, linked: bool = False) -> str:
    """The path a failed step acted on, which every binding names beside the marker:
    the home folder (creating it, flushing it), the temporary file beside the marker
    ("TEMP": its name is a slot's), the marker (renaming over it, removing it). Through
    a symlinked marker the rename replaces the link's target, whose folder is flushed."""
    if step in ("create_temp", "keep_mode", "write_temp", "sync_temp"):
        return "TEMP"
    if linked and step in ("rename", "sync_folder"):
        target = f"../{link_target(home).parent.name}"
        return str(home / f"{target}/m.json") if step == "rename" else str(home / target)
    if step in ("rename", "remove", "follow_link"):
        return str(marker_of(home))
    return str(home)  # create_home, sync_folder


def names_failure(binding: str, out: dict, home: Path, op: str, step: Optional[str], linked: bool = False,
                  want_path: Optional[str] = None) -> Optional[str]:
    """None if the failure names what each binding now reports: the marker path, the
    step (the expected one, or else any step, consistent with the rest), the path the
    failing call acted on, whether the old marker is untouched (C, Go, Rust) and a
    message naming the marker and the step; else what is wrong."""
    marker = str(marker_of(home))
    got_step = out.get("step")
    if step is not None and got_step != step:
        return f"step {got_step!r}, want {step!r}"
    if got_step not in STEP_TEXT or got_step == "check_payload":
        return f"step {got_step!r} is no step of a failed {op}"
    if out.get("marker") != marker:
        return f"marker {out.get('marker')!r}, want {marker!r}"
    want = expected_path(got_step, home, linked) if want_path is None else want_path
    got = out.get("path")
    if want == "TEMP":
        if not (isinstance(got, str) and os.path.dirname(got) == str(home) and TEMP_RE.match(os.path.basename(got))):
            return f"path {got!r}, want a temp file in {str(home)!r}"
    elif got != want:
        return f"path {got!r}, want {want!r}"
    message = out.get("message") or ""
    if STEP_TEXT[got_step] not in message:
        return f"the message does not name the step ({STEP_TEXT[got_step]!r}): {message!r}"
    if binding == "python":
        if repr(marker) not in message:
            return f"the message does not name the marker: {message!r}"
    else:
        if f'drain marker "{marker}"' not in message:
            return f"the message does not name the marker: {message!r}"
        if out.get("marker_untouched") is not (got_step != "sync_folder"):
            return f"marker_untouched {out.get('marker_untouched')!r} after a failed {got_step}"
    if binding == "c" and (out.get("os_error") != out.get("errno") or out.get("marker_cut") or out.get("path_cut")):
        return f"the drain_error disagrees with itself: {out!r}"
    # The MarkerError's Op is the package's name of the operation: keep-alive's is "keep_alive".
    if binding == "go" and (out.get("path_op") != got_step or out.get("marker_op") != op.replace("-", "_")):
        return f"the *fs.PathError's Op {out.get('path_op')!r} or the MarkerError's Op {out.get('marker_op')!r} is wrong"
    return None


def faults_suite(probes: dict, base: Path, long: bool) -> None:
    T.suite = "faults"
    scenarios = {
        "write over a marker": (["write", "HOME", "new"], True),
        "write into a missing home": (["write", "HOME", "new"], False),
        "clear": (["clear", "HOME"], True),
    }
    if long:
        scenarios["write through a symlinked marker"] = (["write", "HOME", "new"], "link")
    runs = 0
    for name in ("c", "rust", "go", "python"):
        if name not in probes:
            T.skip(f"{name}: no probe (the Python wheel is not installed)")
            continue
        probe = probes[name]
        home = base / f"faults-{name}" / "home"
        for scenario, (args, has_old) in scenarios.items():
            def setup():
                shutil.rmtree(home.parent, ignore_errors=True)
                if has_old == "link":
                    put_old_linked(home)
                elif has_old:
                    put_old(home)
                else:
                    home.parent.mkdir(parents=True)
            argv = [home if a == "HOME" else a for a in args]
            calls = traced_calls(probe, argv, setup)
            wanted = CLEAR_STEPS if args[0] == "clear" else WRITE_STEPS
            targets = [c for c in calls if c.step in wanted]
            found = [c.step for c in targets]
            expected_steps = set(wanted) - {"sweep"}
            if args[0] == "write" and has_old is False:
                expected_steps -= {"keep mode", "keep owner"}
            if args[0] == "write" and has_old:
                expected_steps -= {"create home"}  # the folder exists: mkdir is not the step
            T.check(expected_steps <= set(found), f"{name} {scenario}: steps traced {found}, want {sorted(expected_steps)}")
            for call in targets:
                if call.step == "create home" and has_old:
                    continue
                for err in ERRNOS:
                    setup()
                    before = raw_marker(home)
                    what = f"{name} {scenario}: {err} at {call.step} ({call.name} #{call.when})"
                    r = probe.run(*argv, strace=["-e", f"inject={call.name}:error={err}:when={call.when}"])
                    runs += 1
                    out = r.out or {}
                    after = raw_marker(home)
                    T.check(temps(home) == [], f"{what}: temp files left: {temps(home)}")
                    if has_old == "link":
                        T.check(marker_of(home).is_symlink(), f"{what}: the marker link is gone")
                    T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{what}: {r.stderr[-400:]!r}")
                    if call.step in ("sweep", "keep owner"):
                        # Best effort by design: a sweep is housekeeping, and only a
                        # privileged writer may give the new marker the old owner.
                        T.check(out.get("ok") is True and payload(after, "new") is not None,
                                f"{what}: a failed {call.step} must not fail the write: {r.stdout!r}")
                        continue
                    errno_value = getattr(errnos, err)
                    if name == "python" and args[0] == "clear":
                        # The original's contract: clear_drain_request logs and returns False.
                        T.check(out.get("ok") is True and out.get("existed") is False,
                                f"{what}: Python's clear must return False: {r.stdout!r}")
                        # str(e) of the OSError: "[Errno N] <text> (<step>[ <path acted on>]): <marker>".
                        step = STEP_OF[call.step]
                        acted = "" if step == "remove" else f" {str(home)!r}"
                        T.check("WARNING" in r.stderr and os.strerror(errno_value) in r.stderr
                                and f"({STEP_TEXT[step]}{acted}): {str(marker_of(home))!r}" in r.stderr,
                                f"{what}: Python's warning lacks the error, the step, the path or the marker: {r.stderr!r}")
                    else:
                        T.check(out.get("ok") is False and out.get("errno") == errno_value,
                                f"{what}: reported {r.stdout.strip()!r} (want errno {errno_value})")
                        wrong = names_failure(name, out, home, args[0], STEP_OF[call.step], linked=has_old == "link")
                        T.check(wrong is None, f"{what}: {wrong}: {r.stdout.strip()[:600]!r}")
                    if call.step in BEFORE_RENAME or call.step == "unlink":
                        T.check(after == before, f"{what}: the old marker changed: {before!r} -> {after!r}")
                        if call.step == "create home":
                            T.check(not home.exists(), f"{what}: the home was created anyway")
                    elif args[0] == "write":
                        # The known gap: the rename is done; the folder fsync cannot undo it.
                        T.check(payload(after, "new") is not None, f"{what}: marker {after!r}")
                    else:
                        T.check(after is None, f"{what}: marker {after!r}")
    print(f"  faults: {runs} injected failures", flush=True)
