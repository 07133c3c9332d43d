"""What the parts of the leases suite share (leases.py runs them): who takes part, a
leased marker as a lease writes it, and whether the writers' lock is free."""

import fcntl
import json
import os
import re
from pathlib import Path
from typing import Optional

from common import EPOCH, ISO_RE, KEYS, T, fresh_dir, marker_of

LOCK = ".drain_request.lock"
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
LEASE_KEYS = KEYS + ["owner_token"]
LOCK_WAIT_US = 5_000_000  # the contract's lock bound (src/contract.rs LOCK_WAIT)
SLACK_US = 1_000_000  # a read, a write with its fsyncs, a busy machine's scheduling

# Who takes part, by language, once its probe answers the lease commands (README.md;
# every probe does): how many loop-lease processes it runs in a race, and whether it is
# killed at every system call (C and Rust always; Go with --long, as in the crash
# suite).
LOOPERS = {"c": 2, "rust": 2, "go": 2, "python": 1}
KILLED = ["c", "rust"]
KILLED_LONG = ["go"]


def lease_probes(probes: dict, base: Path) -> dict:
    """The probes that speak the lease commands: `begin` on a fresh home answers as a
    begin. The others are left out of every lease check, each with a skip saying so."""
    found = {}
    area = fresh_dir(base, "lease-capable")
    for name in LOOPERS:
        probe = probes.get(name)
        if probe is None:
            T.skip(f"{name}: no probe (the Python wheel is not installed): no {name} lease participants")
            continue
        home = area / name
        r = probe.run("begin", home, f"{name}-capable")
        out = r.out or {}
        if out.get("op") != "begin":
            T.skip(f"the {name} probe has no lease commands yet (begin answered rc {r.rc} "
                   f"{(r.stdout + r.stderr).strip()[-160:]!r}): its lease participants are left out")
            continue
        T.check(out.get("ok") is True and TOKEN_RE.match(str(out.get("token"))) is not None
                and lease_payload(marker_of(home).read_bytes(), f"{name}-capable", out.get("token")) is not None,
                f"{name} begin on a fresh home: {r.stdout!r} {r.stderr[-300:]!r}")
        found[name] = probe
    print(f"  leases: lease participants {', '.join(found) or 'none'}", flush=True)
    return found


def lease_body(body, principal: Optional[str] = None, token: Optional[str] = None,
               pattern: Optional[str] = None, ordered: bool = True) -> bool:
    """Whether a decoded marker is a leased payload as begin or keep-alive writes it:
    the five keys and `owner_token` (in that order unless ordered is False: Go's maps
    have none), a drain of this instantiation's epoch, an isoformat time, 32 hex digits
    (and the principal, token or principal pattern asked for)."""
    if not isinstance(body, dict):
        return False
    if (list(body) if ordered else sorted(body)) != (LEASE_KEYS if ordered else sorted(LEASE_KEYS)):
        return False
    if body["action"] != "drain" or body["epoch"] != EPOCH or not isinstance(body["suppress_notification"], bool):
        return False
    if not isinstance(body["requested_at"], str) or not ISO_RE.match(body["requested_at"]):
        return False
    if not isinstance(body["owner_token"], str) or not TOKEN_RE.match(body["owner_token"]):
        return False
    if principal is not None and body["principal"] != principal:
        return False
    if pattern is not None and not (isinstance(body["principal"], str) and re.fullmatch(pattern, body["principal"])):
        return False
    return token is None or body["owner_token"] == token


def lease_payload(raw: Optional[bytes], principal: Optional[str] = None, token: Optional[str] = None,
                  pattern: Optional[str] = None) -> Optional[dict]:
    """The marker bytes as a leased payload, if they are exactly what a lease writes
    (the layout of Python's json.dumps(indent=2, ensure_ascii=False), as a plain write)."""
    if raw is None:
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not lease_body(body, principal, token, pattern):
        return None
    if json.dumps(body, indent=2, ensure_ascii=False).encode() != raw:
        return None
    return body


def lock_free(home: Path) -> bool:
    """Whether nobody holds the writers' lock of home: the suite itself takes
    flock(LOCK_EX | LOCK_NB) on the lock file (a missing one is free)."""
    try:
        fd = os.open(home / LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
