#!/usr/bin/env python3
"""The Python participant of the reliability suites: the probe command line (see
README.md in this folder) over the installed drain_control wheel. HOME and PRINCIPAL
may be given as hex:<digits> to pass bytes a shell argument cannot (NUL, non-UTF-8,
control characters), or as file:<path> for the bytes of a file; a non-UTF-8 home becomes
a str with surrogate escapes, as os.fsdecode gives, and so does a non-UTF-8 principal
(surrogateescape). A principal may also be py:<Python literal>, one of another type
(py:5, py:None). Warnings of the module's logger go to stderr."""

import ast
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from typing import Optional

import drain_control as dc


def arg(text: str, *, path: bool):
    if not path and text.startswith("py:"):
        # A Python literal (a principal of another type: 5, b'x', None...).
        return ast.literal_eval(text[3:])
    if text.startswith("file:"):
        with open(text[5:], "rb") as f:
            raw = f.read()
    elif text.startswith("hex:"):
        raw = bytes.fromhex(text[4:])
    else:
        return text
    return os.fsdecode(raw) if path else raw.decode("utf-8", "surrogateescape")


def sentinel(path: str) -> None:
    """A system call naming path: marks where a library call begins and ends in an
    strace of the probe."""
    os.access(path, os.F_OK)


def emit(value: dict) -> None:
    print(json.dumps(value, ensure_ascii=True))


# The steps as the OSError of a failed write or clear describes them (src/error.rs,
# Step::describe), by their stable names (Step::as_str, the same in every binding).
STEPS = {
    "checking the payload": "check_payload",
    "creating the home folder": "create_home",
    "following the marker's link": "follow_link",
    "creating a temporary file": "create_temp",
    "keeping the marker's mode on the temporary file": "keep_mode",
    "writing the temporary file": "write_temp",
    "flushing the temporary file": "sync_temp",
    "renaming the new marker into place": "rename",
    "flushing the folder": "sync_folder",
    "removing the marker": "remove",
    "locking the writers' lock file": "lock",
}
STEP_RE = re.compile(r"^(?P<os>.*) \((?P<step>" + "|".join(re.escape(d) for d in STEPS)
                     + r")(?: (?P<path>'.*'|\".*\"))?\)$", re.DOTALL)


def failure(op: str, error: BaseException, started: float, took: Optional[int] = None) -> int:
    """A failed call as the probe line (describe)."""
    emit(describe(op, error, started, took))
    return 1


def describe(op: str, error: BaseException, started: float, took: Optional[int] = None) -> dict:
    """A failed call as the probe's answer: for the OSError of a write, "marker" is its
    filename (the marker path) and "step" and "path" (the path the failing call acted
    on) are read from its strerror, "<OS text> (<step>[ <repr of the path>])"; the path
    is the marker when the strerror names none."""
    out = {
        "ok": False, "op": op,
        "status": "io_error" if isinstance(error, OSError) else type(error).__name__,
        "errno": getattr(error, "errno", None),
        "path": None,
        "message": str(error),
        "us": int((time.monotonic() - started) * 1e6) if took is None else took,
    }
    filename = getattr(error, "filename", None)
    if isinstance(error, OSError) and filename is not None:
        out["marker"] = os.fsdecode(filename)
        m = STEP_RE.match(error.strerror or "")
        if m:
            out["step"] = STEPS[m.group("step")]
            out["path"] = ast.literal_eval(m.group("path")) if m.group("path") else out["marker"]
            out["strerror_os"] = m.group("os")
        else:
            out["step"] = None  # the strerror names no step: the suite fails it
    return out


def deadline(arg: str) -> float:
    """SECONDS: a duration from now, or @<unix time> for an instant shared by several
    processes (which then stop together however long each took to start)."""
    if arg.startswith("@"):
        return time.monotonic() + max(0.0, float(arg[1:]) - time.time())
    return time.monotonic() + float(arg)


def run_loop(seconds: str, log_path: str, op) -> int:
    until = deadline(seconds)
    ops = failures = 0
    n = 0
    with open(log_path, "w") as log:
        while time.monotonic() < until:
            n += 1
            ops += 1
            try:
                what = op(n)
            except BaseException as error:  # every exception is a failure to report
                failures += 1
                log.write(f"{time.time():.6f} !error {error!r}\n")
                continue
            log.write(f"{time.time():.6f} {what}\n")
    emit({"ops": ops, "failures": failures})
    return 1 if failures else 0


def main(argv: list) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if len(argv) < 2:
        print("usage: probe.py write|clear|read|inspect|loop-*|begin|keep-alive|release HOME ...", file=sys.stderr)
        return 2
    command, home = argv[0], arg(argv[1], path=True)
    if command in ("begin", "keep-alive", "release", "loop-lease"):
        import probe_lease  # the lease commands, beside this file
        return probe_lease.command(command, home, argv[2:])
    if command in ("write", "clear"):
        # The module loads its native part and the standard library it needs on first
        # use; do that before the traced call, so that the faults suite injects into
        # the write's own system calls, not into an import's.
        scratch = tempfile.mkdtemp(prefix="drain-probe-warm-")
        dc.write_drain_request(home=scratch, principal="warm-up")
        dc.clear_drain_request(home=scratch)
        shutil.rmtree(scratch)
    started = time.monotonic()
    us = lambda: int((time.monotonic() - started) * 1e6)
    if command == "write" and len(argv) >= 3:
        principal = arg(argv[2], path=False)
        # The answer is printed after the end sentinel: between the sentinels are only
        # the library call's own system calls.
        failed = None
        sentinel("/drain-probe-begin")
        started = time.monotonic()
        try:
            dc.write_drain_request(home=home, principal=principal,
                                   suppress_notification=len(argv) >= 4 and argv[3] == "true")
        except (OSError, ValueError, UnicodeError, TypeError) as error:
            failed = error
        took = us()
        sentinel("/drain-probe-end")
        if failed is not None:
            return failure("write", failed, started, took)
        emit({"ok": True, "op": "write", "us": took})
    elif command == "clear":
        failed = None
        sentinel("/drain-probe-begin")
        started = time.monotonic()
        try:
            existed = dc.clear_drain_request(home=home)
        except (OSError, ValueError, TypeError) as error:
            failed = error
        took = us()
        sentinel("/drain-probe-end")
        if failed is not None:
            return failure("clear", failed, started, took)
        emit({"ok": True, "op": "clear", "existed": existed, "us": took})
    elif command == "read":
        try:
            read = dc.read_drain_request(home=home)
        except (ValueError, TypeError) as error:
            return failure("read", error, started)
        emit({"ok": True, "op": "read", "read": read, "us": us()})
    elif command == "inspect":
        try:
            active = dc.drain_requested(home=home)
            suppressed = dc.drain_notification_suppressed(home=home)
            present = dc.read_drain_request(home=home) is not None
        except (ValueError, TypeError) as error:
            return failure("inspect", error, started)
        emit({"ok": True, "op": "inspect", "present": present, "active": active,
              "suppressed": suppressed, "us": us()})
    elif command == "loop-write" and len(argv) >= 5:
        tag = argv[2]
        return run_loop(argv[3], argv[4], lambda n: json.dumps(dc.write_drain_request(
            home=home, principal=f"{tag}-{n}", suppress_notification=n % 2 == 0)))
    elif command == "loop-clear" and len(argv) >= 4:
        return run_loop(argv[2], argv[3], lambda n: (dc.clear_drain_request(home=home), "clear")[1])
    elif command == "loop-read" and len(argv) >= 4:
        until = deadline(argv[2])
        reads = failures = 0
        last = object()
        with open(argv[3], "w") as out:
            while time.monotonic() < until:
                reads += 1
                try:
                    read = dc.read_drain_request(home=home)
                except BaseException:
                    failures += 1
                    out.write("!exception " + traceback.format_exc().replace("\n", " | ") + "\n")
                    continue
                if read != last:
                    out.write(json.dumps(read) + "\n")
                    last = read
        emit({"reads": reads, "failures": failures})
        return 1 if failures else 0
    else:
        print("probe.py: unknown command or missing arguments", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
