"""The lease commands of the probe command line (README.md in this folder): begin,
keep-alive, release and loop-lease, over the installed wheel's lease API
(drain_control.begin_lease, resume_lease, Lease.keep_alive/release), answering as the C
and Rust probes do. probe.py runs them."""

import json
import shutil
import sys
import tempfile
import time
from typing import Optional

import drain_control as dc

from probe import arg, deadline, describe, emit, sentinel


def holder_json(holder) -> Optional[dict]:
    """Who holds the drain: the principal verbatim, the state's stable name; None (null)
    when there is no marker."""
    if holder is None:
        return None
    return {"principal": holder.principal, "requested_at": holder.requested_at,
            "owned": holder.owned, "state": holder.state}


def status(error: BaseException) -> str:
    if isinstance(error, dc.DrainHeldError):
        return "held"
    if isinstance(error, dc.LeaseLostError):
        return "lost"
    if isinstance(error, dc.LeaseBusyError):
        return "busy"
    if isinstance(error, dc.InvalidLeaseTokenError):
        return "invalid_token"
    if isinstance(error, OSError):
        return "io_error"
    return type(error).__name__  # a payload refused before the disk (ValueError...)


def failure(op: str, error: BaseException, started: float, took: Optional[int] = None) -> int:
    """A failed lease operation: the status, who holds the drain (held, lost), and for an
    OSError what a failed write's answer says (the step "lock" for the lock file)."""
    busy = isinstance(error, dc.LeaseBusyError)  # an OSError naming the lock, no step
    out = describe(op, RuntimeError(str(error)) if busy else error, started, took)
    if busy:
        out["path"] = error.filename
    out["status"] = status(error)
    out["holder"] = holder_json(getattr(error, "holder", None))
    emit(out)
    return 1


LEASE_ERRORS = (dc.LeaseError, OSError, ValueError, TypeError, UnicodeError)


def warm_up() -> None:
    """Loads the native part and what it needs before the traced call (as probe.py's
    write does), so that a trace holds the lease operation's own system calls."""
    scratch = tempfile.mkdtemp(prefix="drain-probe-warm-")
    dc.begin_lease("warm-up", home=scratch).release()
    shutil.rmtree(scratch)


def begin(home, principal, wait_ms: int):
    """A begin without waiting (wait_ms 0) or waiting wait_ms: (lease or None, error or
    None, microseconds)."""
    started = time.monotonic()
    try:
        lease = dc.begin_lease(principal, home=home, wait=wait_ms / 1000 if wait_ms else None)
        return lease, None, int((time.monotonic() - started) * 1e6)
    except LEASE_ERRORS as error:
        return None, error, int((time.monotonic() - started) * 1e6)


def command(command: str, home, args: list) -> int:
    if command == "begin" and len(args) >= 1:
        principal = arg(args[0], path=False)
        wait_ms = int(args[1]) if len(args) >= 2 else 0
        warm_up()
        sentinel("/drain-probe-begin")
        started = time.monotonic()
        lease, error, us = begin(home, principal, wait_ms)
        sentinel("/drain-probe-end")
        if error is not None:
            return failure("begin", error, started, us)
        emit({"ok": True, "op": "begin", "token": lease.token, "us": us})
    elif command in ("keep-alive", "release") and len(args) >= 1:
        warm_up()
        started = time.monotonic()
        try:
            lease = dc.resume_lease(args[0], home=home)
        except LEASE_ERRORS as error:
            return failure(command, error, started, 0)
        failed = removed = None
        sentinel("/drain-probe-begin")
        started = time.monotonic()
        try:
            if command == "keep-alive":
                lease.keep_alive()
            else:
                removed = lease.release()
        except LEASE_ERRORS as error:
            failed = error
        us = int((time.monotonic() - started) * 1e6)
        sentinel("/drain-probe-end")
        if failed is not None:
            return failure(command, failed, started, us)
        out = {"ok": True, "op": command, "us": us}
        if command == "release":
            out["removed"] = removed
        emit(out)
    elif command == "loop-lease" and len(args) >= 3:
        return loop_lease(home, args[0], args[1], args[2], args[3] if len(args) >= 4 else "0")
    else:
        print("probe.py: unknown command or missing arguments", file=sys.stderr)
        return 2
    return 0


def now() -> str:
    """CLOCK_REALTIME as <seconds>.<microseconds>, the loops' log time."""
    us = time.time_ns() // 1000
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def loop_lease(home, tag: str, seconds: str, log_path: str, pause_arg: str) -> int:
    """loop-lease HOME TAG SECONDS LOG [PAUSE_MS]: begin (no wait) TAG-1, TAG-2, ...; each
    lease kept alive once and released (the release retried while busy), with a pause
    after each call (a lease is held across two). A line per event (README.md): "begun
    TOKEN US", "kept TOKEN", "lost TOKEN HOLDER", "keep-busy TOKEN US", "release-busy
    TOKEN US", "released TOKEN REMOVED" (its time taken before the call: every time of a
    lease's lines falls while its marker exists), "held US", "busy US", "!error ..."."""
    until = deadline(seconds)
    pause = int(pause_arg or 0) / 1000
    ops = begun = held = busy = failures = 0
    with open(log_path, "w") as log:
        while time.monotonic() < until:
            if ops > 0:
                time.sleep(pause)
            ops += 1
            lease, error, us = begin(home, f"{tag}-{ops}", 0)
            if error is not None:
                if isinstance(error, dc.DrainHeldError):
                    held += 1
                    line = f"held {us}"
                elif isinstance(error, dc.LeaseBusyError):
                    busy += 1
                    line = f"busy {us}"
                else:
                    failures += 1
                    line = f"!error begin {status(error)} {error!r}"
                log.write(f"{now()} {line}\n")
                continue
            begun += 1
            token = lease.token
            log.write(f"{now()} begun {token} {us}\n")
            time.sleep(pause)
            started = time.monotonic()
            try:
                lease.keep_alive()
                line = f"kept {token}"
            except dc.LeaseLostError as error:
                line = f"lost {token} {json.dumps(holder_json(error.holder))}"
            except dc.LeaseBusyError:
                line = f"keep-busy {token} {int((time.monotonic() - started) * 1e6)}"
            except LEASE_ERRORS as error:
                failures += 1
                line = f"!error keep-alive {token} {error!r}"
            log.write(f"{now()} {line}\n")
            time.sleep(pause)
            while True:
                before, started = now(), time.monotonic()
                try:
                    line = f"released {token} {'true' if lease.release() else 'false'}"
                except dc.LeaseBusyError:
                    log.write(f"{before} release-busy {token} {int((time.monotonic() - started) * 1e6)}\n")
                    continue
                except LEASE_ERRORS as error:
                    failures += 1
                    line = f"!error release {token} {error!r}"
                log.write(f"{before} {line}\n")
                break
    emit({"ops": ops, "begun": begun, "held": held, "busy": busy, "failures": failures})
    return 1 if failures else 0
