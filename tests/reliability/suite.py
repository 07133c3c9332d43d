#!/usr/bin/env python3
"""The reliability suites of drain-control (issue 6): crashes, races, faults, real
conditions and hostile input, driven through the probe of every binding (C, Go, Rust,
Python; see README.md in this folder).

Usage: suite.py [--long] [--seed N] SUITE...   (SUITE: crash race faults real hostile all)

The probes are given by the environment (scripts/test-reliability builds them):
  PROBE_C, PROBE_GO, PROBE_RUST   paths of the compiled probes
  PROBE_PYTHON                    an interpreter that imports drain_control (optional:
                                  without it the Python participants are skipped, and
                                  the suite says so)
Every check is counted; the last line is "reliability: N checks, F failed, S skipped".
Exit status 0 only when nothing failed.
"""

import argparse
import errno as errnos
import hashlib
import json
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
MARKER = ".drain_request.json"
TEMP_RE = re.compile(r"^\.\.drain_request_.*\.tmp$")
KEYS = ["action", "requested_at", "principal", "epoch", "suppress_notification"]
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")
ERRNOS = ["EIO", "ENOSPC", "EDQUOT", "EROFS", "EACCES", "EXDEV"]
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
LIMIT_US = 100_000  # "a clear error within 100 ms"


def current_epoch() -> str:
    def read(path):
        try:
            return Path(path).read_text()
        except OSError:
            return ""
    boot = read("/proc/sys/kernel/random/boot_id").strip()
    stat_text = read("/proc/1/stat")
    start = ""
    if ")" in stat_text:
        rest = stat_text.rsplit(")", 1)[1].split()
        start = rest[19] if len(rest) > 19 else ""
    return f"{boot}:{start}" if (boot or start) else ""


EPOCH = current_epoch()


# --- bookkeeping ---------------------------------------------------------------------

class Tally:
    def __init__(self) -> None:
        self.rows: dict = {}
        self.suite = "?"
        self.notes: list = []

    def row(self) -> list:
        return self.rows.setdefault(self.suite, [0, 0, 0, 0.0])

    def check(self, ok: bool, what: str) -> bool:
        row = self.row()
        row[0] += 1
        if not ok:
            row[1] += 1
            print(f"FAIL [{self.suite}] {what}", flush=True)
        return ok

    def skip(self, what: str) -> None:
        self.row()[2] += 1
        print(f"SKIP [{self.suite}] {what}", flush=True)

    def note(self, what: str) -> None:
        self.notes.append(f"[{self.suite}] {what}")
        print(f"note [{self.suite}] {what}", flush=True)


T = Tally()


@dataclass
class Run:
    rc: int
    out: Optional[dict]
    stdout: str
    stderr: str
    seconds: float


def as_arg(value) -> bytes:
    return value if isinstance(value, bytes) else os.fsencode(str(value))


@dataclass
class Probe:
    name: str
    argv: list
    # A probe staged by stage_for_user (the only kind that may run as nobody), with the
    # environment and working folder its runs get unless a call gives its own.
    staged: bool = False
    env: Optional[dict] = None
    cwd: Optional[str] = None

    def run(self, *args, strace=None, user=False, timeout=20.0, env=None, cwd=None) -> Run:
        cmd = [as_arg(a) for a in self.argv] + [as_arg(a) for a in args]
        if strace is not None:
            cmd = [b"strace", b"-f", b"-qq", b"-o", b"/dev/null"] + [as_arg(a) for a in strace] + [b"--"] + cmd
        if user:
            # The checkout may sit where nobody cannot enter (a 0700 home, mktemp -d):
            # what nobody runs must be a copy staged in a folder it can read.
            if not self.staged:
                raise RuntimeError(f"the {self.name} probe runs as nobody only once staged (stage_for_user)")
            cmd = [as_arg(a) for a in NOBODY] + cmd
        env = self.env if env is None else env
        cwd = self.cwd if cwd is None else cwd
        started = time.monotonic()
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, cwd=cwd)
        except subprocess.TimeoutExpired as e:
            return Run(-999, None, (e.stdout or b"").decode("utf-8", "replace"),
                       (e.stderr or b"").decode("utf-8", "replace"), timeout)
        seconds = time.monotonic() - started
        stdout = p.stdout.decode("utf-8", "replace")
        out = None
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if lines:
            try:
                out = json.loads(lines[-1])
            except ValueError:
                out = None
        return Run(p.returncode, out, stdout, p.stderr.decode("utf-8", "replace"), seconds)

    def popen(self, *args, **kw) -> subprocess.Popen:
        cmd = [as_arg(a) for a in self.argv] + [as_arg(a) for a in args]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def probes_from_env() -> dict:
    found = {}
    for name, var in (("c", "PROBE_C"), ("go", "PROBE_GO"), ("rust", "PROBE_RUST")):
        path = os.environ.get(var)
        if not path or not os.access(path, os.X_OK):
            sys.exit(f"suite.py: {var} must name the compiled {name} probe")
        found[name] = Probe(name, [path])
    python = os.environ.get("PROBE_PYTHON")
    if python:
        check = subprocess.run([python, "-c", "import drain_control"], capture_output=True)
        if check.returncode == 0:
            found["python"] = Probe("python", [python, str(HERE / "probe.py")])
    return found


# --- the marker on disk ----------------------------------------------------------------

def marker_of(home: Path) -> Path:
    return home / MARKER


def raw_marker(home: Path) -> Optional[bytes]:
    try:
        return marker_of(home).read_bytes()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None


def temps(home: Path) -> list:
    try:
        return sorted(n for n in os.listdir(home) if TEMP_RE.match(n))
    except FileNotFoundError:
        return []


def payload(raw: Optional[bytes], principal: Optional[str] = None, pattern: Optional[str] = None) -> Optional[dict]:
    """The marker bytes as a payload, if they are exactly what a write makes: the five
    keys in order, Python's json.dumps(indent=2, ensure_ascii=False) layout, this
    instantiation's epoch, an isoformat timestamp (and the principal asked for)."""
    if raw is None:
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(body, dict) or list(body) != KEYS:
        return None
    if json.dumps(body, indent=2, ensure_ascii=False).encode() != raw:
        return None
    if body["action"] != "drain" or body["epoch"] != EPOCH:
        return None
    if not isinstance(body["requested_at"], str) or not ISO_RE.match(body["requested_at"]):
        return None
    if not isinstance(body["suppress_notification"], bool):
        return None
    if principal is not None and body["principal"] != principal:
        return None
    if pattern is not None and not re.fullmatch(pattern, body["principal"]):
        return None
    return body


def snapshot(root: Path) -> list:
    """Everything under root: names, types, modes, sizes, link targets, small contents."""
    entries = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(dirs + files):
            path = os.path.join(folder, name)
            st = os.lstat(path)
            item = [os.path.relpath(path, root), stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid]
            if stat.S_ISLNK(st.st_mode):
                item.append(os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                item.append(st.st_size)
                if st.st_size <= 1 << 21:
                    with open(path, "rb") as f:
                        item.append(hashlib.sha1(f.read()).hexdigest())
            entries.append(item)
    return sorted(entries, key=lambda e: e[0])


def fresh_dir(base: Path, name: str) -> Path:
    path = base / name
    if path.exists() or path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


OLD_BYTES: bytes = b""


def seed_old(probes: dict, base: Path) -> bytes:
    home = fresh_dir(base, "seed")
    r = probes["c"].run("write", home, "old")
    assert r.rc == 0, r
    raw = raw_marker(home)
    assert payload(raw, "old"), raw
    return raw


def put_old(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    marker_of(home).write_bytes(OLD_BYTES)


def link_target(home: Path) -> Path:
    return home.parent / f"{home.name}-target" / "m.json"


def put_old_linked(home: Path) -> None:
    """The old marker as the target of a symlinked marker (in a sibling folder)."""
    target = link_target(home)
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    target.write_bytes(OLD_BYTES)
    home.mkdir(parents=True, exist_ok=True)
    os.symlink(f"../{target.parent.name}/m.json", marker_of(home))


# --- strace: the system calls of one library call ------------------------------------

@dataclass
class Call:
    name: str
    when: int  # the ordinal of this system call among the thread's calls of that name
    text: str
    step: str


START_RE = re.compile(r"^(\d+) +([a-z_0-9]+)\(")


def label(name: str, text: str, renamed: bool) -> str:
    if name in ("mkdir", "mkdirat"):
        return "create home"
    if name in ("openat", "open") and "..drain_request_" in text:
        return "create temp"
    if name in ("statx", "newfstatat", "lstat") and '..drain_request_0.tmp"' in text:
        # The sweep's look at the first temp slot for a killed writer's leftover (the
        # other slots' looks are the same call, and would only multiply the runs).
        return "sweep"
    if name in ("fchmod", "fchmodat", "chmod"):
        return "keep mode"
    if name in ("fchown", "fchownat"):
        return "keep owner"
    if name in ("write", "pwrite64", "writev"):
        return "write temp"
    if name in ("fsync", "fdatasync"):
        return "fsync folder" if renamed else "fsync temp"
    if name in ("rename", "renameat", "renameat2"):
        return "rename"
    if name in ("openat", "open") and "O_DIRECTORY" in text:
        return "sweep" if "O_NONBLOCK" in text else "open folder"
    if name in ("unlink", "unlinkat"):
        return "unlink"
    return "other:" + name


def traced_calls(probe: Probe, args: list, setup) -> list:
    """The system calls between the probe's sentinels, on the thread that made them."""
    setup()
    with tempfile.NamedTemporaryFile(prefix="drain-trace-") as trace:
        cmd = ["strace", "-f", "-o", trace.name, "--"] + probe.argv + [os.fsdecode(as_arg(a)) for a in args]
        subprocess.run(cmd, capture_output=True, timeout=60)
        lines = Path(trace.name).read_text(errors="replace").splitlines()
    counts: dict = {}
    calls, tid, inside, renamed = [], None, False, False
    for line in lines:
        m = START_RE.match(line)
        if not m:
            continue
        this_tid, name = m.group(1), m.group(2)
        key = (this_tid, name)
        counts[key] = counts.get(key, 0) + 1
        if "/drain-probe-begin" in line and tid is None:
            tid, inside = this_tid, True
            continue
        if "/drain-probe-end" in line and this_tid == tid:
            break
        if inside and this_tid == tid:
            step = label(name, line, renamed)
            renamed = renamed or step == "rename" or step == "unlink"
            calls.append(Call(name, counts[key], line.split(" ", 1)[1][:160], step))
    return calls


# --- checks shared by the suites --------------------------------------------------------

def readers_agree(probes: dict, home: Path, what: str, which=("c",)) -> None:
    """Each named reader reads the marker without error and gives what is on disk."""
    raw = raw_marker(home)
    try:
        expected = None if raw is None else json.loads(raw.decode("utf-8"))
        if not isinstance(expected, (dict, type(None))):
            expected = {}
    except (UnicodeDecodeError, ValueError):
        expected = {}
    for name in which:
        probe = probes.get(name)
        if probe is None:
            continue
        r = probe.run("read", home)
        T.check(r.rc == 0 and r.out is not None and r.out.get("ok") is True,
                f"{what}: {name} read failed: rc={r.rc} {r.stdout!r} {r.stderr[-300:]!r}")
        if r.out:
            T.check(r.out.get("read") == expected, f"{what}: {name} read {r.out.get('read')!r}, on disk {raw!r}")
        T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{what}: {name} stderr {r.stderr[-300:]!r}")
    r = probes["c"].run("inspect", home)
    T.check(r.rc == 0 and r.out is not None and r.out["present"] == (raw is not None)
            and r.out["active"] == (raw is not None), f"{what}: inspect gave {r.stdout!r} for {raw!r}")


def sweep_check(probes: dict, home: Path, what: str) -> int:
    """Leftover temp files, aged past a minute, are gone after the next successful write
    (a new process sweeps on its first write); a young one (a writer still at work)
    stays. Returns how many leftovers there were."""
    leftovers = temps(home)
    past = time.time() - 120
    for name in leftovers:
        os.utime(home / name, (past, past))
    home.mkdir(parents=True, exist_ok=True)
    decoy = home / "..drain_request_young0decoy0000.tmp"
    decoy.write_bytes(b"mid-write")
    r = probes["c"].run("write", home, "sweeper")
    T.check(r.rc == 0, f"{what}: the write after the kill failed: {r.stdout!r}")
    T.check(payload(raw_marker(home), "sweeper") is not None, f"{what}: the next write left {raw_marker(home)!r}")
    T.check(temps(home) == [decoy.name], f"{what}: after the next write, temp files are {temps(home)} (aged: {leftovers})")
    decoy.unlink(missing_ok=True)
    return len(leftovers)


# --- crashes ---------------------------------------------------------------------------

def crash_suite(probes: dict, base: Path, long: bool, rng: random.Random) -> None:
    T.suite = "crash"
    killers = ["c", "rust"] + (["go"] if long else [])
    scenarios = {
        "write over a marker": (["write", "HOME", "new"], True, "new"),
        "write into a missing home": (["write", "HOME", "new"], False, "new"),
        "clear": (["clear", "HOME"], True, None),
    }
    if long:
        scenarios["write through a symlinked marker"] = (["write", "HOME", "new"], "link", "new")
    kills = leftovers = 0
    for name in killers:
        probe = probes[name]
        for scenario, (args, has_old, new) in scenarios.items():
            home = base / f"crash-{name}"
            def setup():
                shutil.rmtree(home, ignore_errors=True)
                if has_old == "link":
                    put_old_linked(home)
                elif has_old:
                    put_old(home)
                else:
                    home.parent.mkdir(parents=True, exist_ok=True)
            argv = [home if a == "HOME" else a for a in args]
            calls = traced_calls(probe, argv, setup)
            T.check(len(calls) >= 3, f"{name} {scenario}: only {len(calls)} system calls traced")
            steps = sorted({c.step for c in calls})
            print(f"  crash: {name} {scenario}: {len(calls)} system calls ({', '.join(steps)})", flush=True)
            for call in calls:
                if call.name == "futex":
                    continue  # a wait on another thread: made or not, as the threads race
                setup()
                what = f"{name} {scenario}, SIGKILL at {call.name} #{call.when} ({call.step})"
                r = probe.run(*argv, strace=["-e", f"inject={call.name}:signal=SIGKILL:when={call.when}"])
                kills += 1
                T.check(r.rc in (-9, 137), f"{what}: not killed (rc {r.rc}): the injection missed")
                raw = raw_marker(home)
                if new is None:
                    ok = raw is None or raw == OLD_BYTES
                elif has_old:
                    ok = raw == OLD_BYTES or payload(raw, new) is not None
                else:
                    ok = raw is None or payload(raw, new) is not None
                T.check(ok, f"{what}: the marker is {raw!r}")
                if has_old == "link":
                    T.check(marker_of(home).is_symlink() and temps(link_target(home).parent) == [],
                            f"{what}: the link did not survive, or a temp file is beside its target")
                readers_agree(probes, home, what, which=("c", "rust") if call.when % 3 == 0 else ("c",))
                leftovers += sweep_check(probes, home, what)
    print(f"  crash: {kills} kills at system calls, {leftovers} left a temp file", flush=True)

    # Random moments: a loop of writes (or clears) killed after a random delay.
    count = 2000 if long else 200
    home = base / "crash-random"
    shutil.rmtree(home, ignore_errors=True)
    put_old(home)
    loops = [("rust", "loop-write", 0.0, 0.05), ("go", "loop-write", 0.0, 0.06),
             ("go", "loop-clear", 0.0, 0.06)]
    if "python" in probes:
        loops.append(("python", "loop-write", 0.05, 0.30))
    log = base / "crash-random.log"
    random_leftovers = 0
    started = time.monotonic()
    for i in range(count):
        name, mode, low, high = rng.choice(loops)
        args = [mode, home] + (["rnd"] if mode == "loop-write" else []) + ["60", log]
        p = probes[name].popen(*args)
        time.sleep(rng.uniform(low, high))
        p.kill()
        p.communicate()
        what = f"random kill #{i + 1} of a {name} {mode}"
        raw = raw_marker(home)
        T.check(raw is None or raw == OLD_BYTES or payload(raw, pattern=r"(rnd-\d+|sweeper)") is not None,
                f"{what}: the marker is {raw!r}")
        readers_agree(probes, home, what, which=("c",) if i % 10 else ("c", "go", "rust"))
        random_leftovers += sweep_check(probes, home, what)
    print(f"  crash: {count} random kills in {time.monotonic() - started:.0f}s, "
          f"{random_leftovers} left a temp file", flush=True)


# --- races -----------------------------------------------------------------------------

def race_once(probes: dict, base: Path, seconds: float, last: str, run_id: int) -> None:
    home = base / f"race-{run_id}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    logs = base / f"race-{run_id}-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    writer_b = "python" if "python" in probes else "rust"
    ops = {"go-writer": ("go", "loop-write", "go"),
           f"{writer_b}-writer": (writer_b, "loop-write", "py" if writer_b == "python" else "rs"),
           "rust-clearer": ("rust", "loop-clear", None)}
    order = list(ops)
    last_name = order[last % len(order)]
    procs = {}
    # Absolute deadlines, so that a slow start (Python's imports) cannot shift one
    # process's end past another's: the last one outlives the others by 0.6 s.
    start = time.time() + 1.0
    for name, (probe, mode, tag) in ops.items():
        until = start + seconds + (0.6 if name == last_name else 0.0)
        args = [mode, home] + ([tag] if tag else []) + [f"@{until:.6f}", logs / f"{name}.log"]
        if mode == "loop-clear":
            args.append("2")  # ms between clears, so that markers live long enough to be read
        procs[name] = probes[probe].popen(*args)
    readers = [r for r in ("python", "c", "go", "rust") if r in probes]
    for reader in readers:
        procs[f"{reader}-reader"] = probes[reader].popen("loop-read", home, f"@{start + seconds + 1.2:.6f}", logs / f"{reader}-reader.out")
    results = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=seconds + 60)
        lines = [line for line in out.decode().splitlines() if line.startswith("{")]
        results[name] = json.loads(lines[-1]) if lines else None
        T.check(p.returncode == 0 and results[name] is not None and results[name].get("failures") == 0,
                f"race {run_id}: {name} exited {p.returncode}: {out.decode()[-300:]!r} {err.decode()[-500:]!r}")
    # What each writer wrote.
    written: dict = {}
    last_op = None
    for name in ops:
        for line in (logs / f"{name}.log").read_text().splitlines():
            when, what = line.split(" ", 1)
            T.check(not what.startswith("!"), f"race {run_id}: {name}: {what}")
            if what.startswith("{"):
                body = json.loads(what)
                written[body["principal"]] = body
            elif what != "clear":
                written[what] = None  # Go logs the principal only
            if name == last_name:
                last_op = what
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
                T.check(False, f"race {run_id}: {reader} read {line!r}")
                continue
            ok = isinstance(body, dict) and set(body) == set(KEYS) and body["action"] == "drain" \
                and body["epoch"] == EPOCH and isinstance(body["requested_at"], str) \
                and ISO_RE.match(body["requested_at"]) is not None
            if ok and reader != "go":
                ok = list(body) == KEYS  # file order (Go's maps have none)
            principal = body.get("principal") if isinstance(body, dict) else None
            ok = ok and principal in written
            if ok:
                n = int(principal.rsplit("-", 1)[1])
                ok = body["suppress_notification"] == (n % 2 == 0)
                if written[principal] is not None:
                    ok = ok and body == written[principal]
            T.check(ok, f"race {run_id}: {reader} read {line[:300]!r}, not a payload a writer wrote")
    raw = raw_marker(home)
    if last_op == "clear":
        T.check(raw is None, f"race {run_id}: the clearer went last, yet the marker is {raw!r}")
    else:
        body = payload(raw)
        expected = json.loads(last_op) if last_op and last_op.startswith("{") else None
        T.check(body is not None and (body == expected if expected else body["principal"] == last_op),
                f"race {run_id}: the last operation was {last_name}'s {last_op!r}, the marker is {raw!r}")
    T.check(temps(home) == [], f"race {run_id}: temp files left: {temps(home)}")
    wrote = {n: (results.get(n) or {}).get("ops") for n in ops}
    print(f"  race {run_id}: {seconds:.0f}s, {', '.join(f'{n} {c} ops' for n, c in wrote.items())}; "
          f"{len(readers)} readers ({', '.join(readers)}): {reads} reads, {distinct} changes seen; "
          f"last: {last_name}", flush=True)


def race_suite(probes: dict, base: Path, long: bool) -> None:
    T.suite = "race"
    if "python" not in probes:
        T.skip("no Python wheel: the Python writer and reader are left out (Rust writes in its place)")
    runs = 30 if long else 1
    for run_id in range(runs):
        race_once(probes, base, 10.0, run_id, run_id)


# --- faults ----------------------------------------------------------------------------

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
    if binding == "go" and (out.get("path_op") != got_step or out.get("marker_op") != op):
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


# --- real conditions ----------------------------------------------------------------------

def mount_tmpfs(where: Path, size: str) -> Optional[str]:
    where.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                       capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip() or f"mount exited {p.returncode}")


def umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def writers_fail(probes: dict, home: Path, op: str, errno_value: int, what: str, user: bool = False) -> None:
    for name, probe in probes.items():
        before = snapshot(home.parent)
        r = probe.run(*( ["write", home, f"{name}-writer"] if op == "write" else ["clear", home]), user=user)
        out = r.out or {}
        label_ = f"{what}: {name} {op}"
        if name == "python" and op == "clear":
            T.check(out.get("existed") is False and os.strerror(errno_value) in r.stderr
                    and f"(removing the marker): {str(marker_of(home))!r}" in r.stderr,
                    f"{label_}: want False and a warning naming the error, the step and the marker: "
                    f"{r.stdout!r} {r.stderr!r}")
        else:
            T.check(out.get("ok") is False and out.get("errno") == errno_value,
                    f"{label_}: reported {r.stdout.strip()!r} {r.stderr[-300:]!r} (want errno {errno_value})")
            wrong = names_failure(name, out, home, op, None)
            T.check(wrong is None, f"{label_}: {wrong}: {r.stdout.strip()[:600]!r}")
            T.check(out.get("step") != "sync_folder", f"{label_}: failed after the rename: {r.stdout.strip()!r}")
        T.check(snapshot(home.parent) == before, f"{label_}: the disk changed")
        T.check(temps(home) == [], f"{label_}: temp files left")


# --- what nobody runs ------------------------------------------------------------------
#
# The real suite runs probes as nobody (uid 65534). The checkout may sit where nobody
# cannot enter (a 0700 home, a `mktemp -d` folder), and the Python interpreter may too
# (pyenv in /root): so nobody runs copies, staged in a folder it can read, never the
# checkout's files. (setpriv execs while it still holds root's capabilities, so a binary
# in the checkout would even start; what it then opens as nobody would not.)

# Parts of the standard library no probe imports: left out of a staged interpreter.
STDLIB_SKIP = shutil.ignore_patterns("site-packages", "dist-packages", "test", "idlelib", "tkinter",
                                     "turtledemo", "ensurepip", "lib2to3", "config-*")
# Where nobody's interpreter finds its standard library and drain_control: it must be
# the staged package, and the prefix the interpreter has when root runs it (a pyenv
# binary run as nobody can fall back to another Python's libpython and standard library).
PYTHON_CHECK = "import json, sys, drain_control; print(json.dumps([sys.base_prefix, drain_control.__file__]))"
PYTHON_FACTS = """
import json, os, sys, sysconfig
import drain_control
print(json.dumps({
    "executable": os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable),
    "version": "%d.%d" % sys.version_info[:2],
    "stdlib": os.path.dirname(os.__file__),
    "dynload": sysconfig.get_config_var("DESTSHARED") or "",
    "shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
    "libdir": sysconfig.get_config_var("LIBDIR") or "",
    "soname": sysconfig.get_config_var("INSTSONAME") or "",
    "package": os.path.dirname(os.path.realpath(drain_control.__file__)),
}))
"""


def public_folder() -> Optional[Path]:
    """/var/tmp or /tmp, if every folder on its path can be entered by other users."""
    for candidate in ("/var/tmp", "/tmp"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents)):
            return path
    return None


def make_public(root: Path) -> None:
    """Folders 0755, files 0644 (0755 when executable): readable by every user."""
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755 if os.stat(path).st_mode & 0o111 else 0o644)


def run_nobody(argv: list, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([as_arg(a) for a in NOBODY + argv], capture_output=True, timeout=60, **kw)


def stage_python(probe: Probe, dest: Path, problems: list, notes: list) -> Optional[Probe]:
    """The Python probe for nobody: probe.py and the installed drain_control package (the
    same files the venv imports) in dest, run by the first interpreter that works there
    as nobody: the venv's own base interpreter, else a copy of it (binary, libpython,
    standard library) in dest/runtime, else the system's /usr/bin/python3."""
    python, script = probe.argv[0], probe.argv[1]
    p = subprocess.run([python, "-I", "-c", PYTHON_FACTS], capture_output=True, text=True)
    if p.returncode != 0:
        problems.append(f"python: cannot ask {python} where it lives: {p.stderr.strip()}")
        return None
    facts = json.loads(p.stdout.splitlines()[-1])
    dest.mkdir(parents=True)
    shutil.copytree(facts["package"], dest / "drain_control", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(script, dest / "probe.py")
    make_public(dest)
    flags = ["-E", "-s", "-B"]  # no PYTHON* variables, user site or bytecode writes

    def works(argv: list, env: Optional[dict], what: str) -> Optional[Probe]:
        try:
            as_root = subprocess.run(argv + flags + ["-c", PYTHON_CHECK], capture_output=True, text=True,
                                     env=env, cwd=dest, timeout=60)
            as_user = run_nobody(argv + flags + ["-c", PYTHON_CHECK], env=env, cwd=dest)
        except subprocess.TimeoutExpired:
            problems.append(f"python: {what} hung")
            return None
        want = as_root.stdout.strip().splitlines()[-1:] if as_root.returncode == 0 else None
        got = as_user.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
        if want and got == want and json.loads(want[0])[1].startswith(f"{dest}/"):
            notes.append(f"Python on {what}")
            return Probe("python", argv + flags + [str(dest / "probe.py")], staged=True, env=env, cwd=str(dest))
        problems.append(f"python: {what} as nobody gave {got or as_user.stderr.decode('utf-8', 'replace')[-300:]!r}, "
                        f"as root {want or as_root.stderr[-300:]!r}")
        return None

    found = works([facts["executable"]], None, facts["executable"])
    if found is None:
        runtime = dest / "runtime"
        exe = runtime / "bin" / f"python{facts['version']}"
        lib = runtime / "lib"
        exe.parent.mkdir(parents=True)
        shutil.copy2(facts["executable"], exe)
        stdlib = lib / Path(facts["stdlib"]).name
        shutil.copytree(facts["stdlib"], stdlib, ignore=STDLIB_SKIP)
        if os.path.isdir(facts["dynload"]) and not (stdlib / "lib-dynload").is_dir():
            shutil.copytree(facts["dynload"], stdlib / "lib-dynload")
        env = None
        if facts["shared"]:
            shutil.copy2(Path(facts["libdir"]) / facts["soname"], lib / facts["soname"])
            paths = [str(lib)] + [x for x in os.environ.get("LD_LIBRARY_PATH", "").split(":") if x]
            env = dict(os.environ, LD_LIBRARY_PATH=":".join(paths))
        make_public(runtime)
        found = works([str(exe)], env, f"a staged copy of {facts['executable']} (nobody cannot run it where it is)")
    if found is None and os.access("/usr/bin/python3", os.X_OK):
        found = works(["/usr/bin/python3"], None, "/usr/bin/python3")
    return found


def stage_for_user(probes: dict, stage: Path) -> dict:
    """Copies of the probes in stage (a new folder every user can enter) that nobody can
    run: the compiled probes, and the Python probe (stage_python). Each is tried as
    nobody first; one that cannot run fails a check and is left out."""
    stage.mkdir(mode=0o755)
    os.chmod(stage, 0o755)
    staged = {}
    problems: list = []
    notes: list = []
    for name, probe in probes.items():
        if name == "python":
            found = stage_python(probe, stage / "python", problems, notes)
            if found is not None:
                staged[name] = found
            continue
        copy = stage / f"probe-{name}"
        shutil.copy2(probe.argv[0], copy)
        os.chmod(copy, 0o755)
        staged[name] = Probe(name, [str(copy)] + probe.argv[1:], staged=True, cwd=str(stage))
    usable = {}
    for name, probe in staged.items():
        r = probe.run("read", stage, user=True)
        if T.check(r.out is not None and r.out.get("ok") is True and r.out.get("read") is None,
                   f"the {name} probe staged in {stage} does not run as nobody: {r.stdout!r} {r.stderr[-300:]!r}"):
            usable[name] = probe
    for name in probes:
        if name not in staged:
            T.check(False, f"the {name} probe cannot be staged for nobody: {'; '.join(problems)}")
    T.note(f"nobody runs copies of the probes, staged in a new folder of {stage.parent.parent}"
           + "".join(f"; {note}" for note in notes))
    return usable


def real_suite(probes: dict, base: Path) -> None:
    T.suite = "real"
    if os.geteuid() != 0:
        T.skip("not root: cannot mount a tmpfs or drop privileges; full, read-only and "
               "other-owner conditions are not tested (CI runs as root and runs them)")
        return
    mnt = base / "mnt"
    problem = mount_tmpfs(mnt, "64k")
    if problem:
        T.skip(f"cannot mount a tmpfs ({problem}): the full and read-only filesystem tests are skipped")
    else:
        try:
            home = mnt / "home"
            put_old(home)
            # Full: fill every block, then every binding's write must fail with ENOSPC.
            fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                while True:
                    os.write(fd, b"\0" * 1024)
            except OSError as e:
                T.check(e.errno == errnos.ENOSPC, f"filling the tmpfs gave {e}")
            finally:
                os.close(fd)
            writers_fail(probes, home, "write", errnos.ENOSPC, "full filesystem")
            readers_agree(probes, home, "full filesystem", which=tuple(probes))
            r = probes["c"].run("clear", home)
            T.check(r.out == {**(r.out or {}), "ok": True, "existed": True}, f"full filesystem: clear {r.stdout!r}")
            (mnt / "filler").unlink()
            r = probes["go"].run("write", home, "after")
            T.check(r.rc == 0 and payload(raw_marker(home), "after") is not None, "full filesystem: write after freeing space")
            # Read-only: writes and clears fail with EROFS, reads still work.
            put_old(home)
            p = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
            if p.returncode != 0:
                T.skip(f"cannot remount read-only ({p.stderr.strip()})")
            else:
                writers_fail(probes, home, "write", errnos.EROFS, "read-only filesystem")
                writers_fail(probes, home, "clear", errnos.EROFS, "read-only filesystem")
                readers_agree(probes, home, "read-only filesystem", which=tuple(probes))
                subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
        finally:
            umount(mnt)
    # Another user's home: the writer runs unprivileged (root would bypass the modes),
    # on copies of the probes staged where nobody can read them (stage_for_user).
    if shutil.which("setpriv") is None:
        T.skip("no setpriv: the other-owner test is skipped")
        return
    public = public_folder()
    if not T.check(public is not None, "neither /var/tmp nor /tmp can be entered by other users: "
                   "no folder to stage nobody's probes in"):
        return
    area = Path(tempfile.mkdtemp(prefix="drain-reliability-user-", dir=public))
    try:
        os.chmod(area, 0o755)
        users = stage_for_user(probes, area / "probes")
        other = area / "other"
        home = other / "home"
        put_old(home)
        for path in (other, home):
            os.chmod(path, 0o755)
        os.chmod(marker_of(home), 0o644)
        writers_fail(users, home, "write", errnos.EACCES, "home of another user", user=True)
        writers_fail(users, home, "clear", errnos.EACCES, "home of another user", user=True)
        for name, probe in users.items():
            r = probe.run("read", home, user=True)
            T.check(r.out is not None and r.out.get("read") == json.loads(OLD_BYTES), f"other user: {name} cannot read a 0644 marker: {r.stdout!r} {r.stderr!r}")
        # A marker the reader may not open: absent, with a warning (Rust and Python log it).
        os.chmod(marker_of(home), 0o600)
        for name, probe in users.items():
            r = probe.run("read", home, user=True)
            T.check(r.out is not None and r.out.get("ok") is True and r.out.get("read") is None,
                    f"other user: {name} reading a 0600 marker: {r.stdout!r} {r.stderr!r}")
            if name in ("rust", "python"):
                T.check("ermission denied" in r.stderr, f"other user: {name} logged no warning: {r.stderr!r}")
    finally:
        shutil.rmtree(area, ignore_errors=True)


# --- hostile input -------------------------------------------------------------------

def timed(r: Run, what: str) -> None:
    us = (r.out or {}).get("us")
    T.check(r.rc != -999, f"{what}: hung (timed out)")
    if us is not None:
        T.check(us < LIMIT_US, f"{what}: took {us / 1000:.1f} ms")


def one_warning_line(stderr: str, what: str, needle: str) -> None:
    """A warning is one line: no raw control character from a hostile value in it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    T.check(len(lines) >= 1 and needle in stderr, f"{what}: no warning logged: {stderr!r}")
    T.check(len(lines) == 1, f"{what}: one warning became {len(lines)} lines (log injection): {stderr!r}")
    T.check(not any(c in stderr for c in "\x1b\r\x00\x07\x85\u2028"), f"{what}: raw control characters: {stderr!r}")


def hostile_suite(probes: dict, base: Path) -> None:
    T.suite = "hostile"
    area = fresh_dir(base, "hostile")
    names = list(probes)

    def case(name: str, make, want_read, *, write=None, background=None):
        """make(home) puts something at the marker path; every binding reads it."""
        home = fresh_dir(area, re.sub(r"\W", "_", name))
        make(home)
        stop = None
        if background:
            stop = background(home)
        for b in names:
            before = snapshot(home)
            for op in ("read", "inspect"):
                r = probes[b].run(op, home, timeout=10)
                what = f"{name}: {b} {op}"
                timed(r, what)
                ok = r.out is not None and r.out.get("ok") is True
                if ok and op == "read":
                    ok = want_read(r.out.get("read"))
                if ok and op == "inspect":
                    ok = r.out.get("present") == (want_read(None) is False)
                T.check(ok, f"{what}: gave {r.stdout.strip()[:300]!r} {r.stderr[-300:]!r}")
            if not background:
                T.check(snapshot(home) == before, f"{name}: {b}: reading changed the disk")
        if stop:
            stop()
        if write:
            for b in names:
                make_home = fresh_dir(area, re.sub(r"\W", "_", name))
                make(make_home)
                before = snapshot(area)
                r = probes[b].run("write", make_home, "hostile")
                timed(r, f"{name}: {b} write")
                verdict = write(make_home, r, before, snapshot(area), b)
                T.check(verdict is True, f"{name}: {b} write: {verdict} {r.stdout.strip()[:300]!r}")

    absent = lambda v: v is None
    contentless = lambda v: v == {}

    def error_and_unchanged(errno_value, step, path=None):
        """A failed write naming the errno, the marker, the step and the path it acted
        on (the marker, or path), with the disk unchanged."""
        def judge(home, r, before, after, b):
            out = r.out or {}
            if out.get("ok") is not False or out.get("errno") != errno_value:
                return f"want errno {errno_value}"
            wrong = names_failure(b, out, home, "write", step, want_path=path)
            if wrong:
                return wrong
            if before != after:
                return "the disk changed"
            return True
        return judge

    def mkfifo(home):
        os.mkfifo(marker_of(home))

    def mksocket(home):
        s = socket.socket(socket.AF_UNIX)
        s.bind(os.fsdecode(marker_of(home)))
        s.close()

    def replaced(home, r, before, after, b):
        ok = (r.out or {}).get("ok") is True and payload(raw_marker(home), "hostile") is not None
        return True if ok else "want a successful write replacing it"

    case("FIFO at the marker path", mkfifo, absent, write=replaced)
    case("socket at the marker path", mksocket, absent, write=replaced)
    case("folder at the marker path", lambda h: marker_of(h).mkdir(), absent,
         write=error_and_unchanged(errnos.EISDIR, "rename"))
    case("symlink loop at the marker path", lambda h: os.symlink(MARKER, marker_of(h)), absent,
         write=error_and_unchanged(errnos.ELOOP, "follow_link"))

    def dangling(home):
        os.symlink("target.json", marker_of(home))

    def through_link(home, r, before, after, b):
        if (r.out or {}).get("ok") is not True:
            return "want success"
        if not marker_of(home).is_symlink() or payload((home / "target.json").read_bytes(), "hostile") is None:
            return "want the link kept and its target written"
        return True
    case("dangling symlink at the marker path", dangling, absent, write=through_link)
    case("link to /dev/zero at the marker path", lambda h: os.symlink("/dev/zero", marker_of(h)), absent,
         write=error_and_unchanged(errnos.EXDEV, "rename", "/dev/zero"))
    T.check(stat.S_ISCHR(os.stat("/dev/zero").st_mode), "/dev/zero is no longer a device")
    case("2 MiB file", lambda h: marker_of(h).write_bytes(b"{" + b" " * (2 << 20) + b"}"), contentless)

    def sparse(home):
        with open(marker_of(home), "wb") as f:
            f.truncate(4 << 30)
    case("4 GiB sparse file", sparse, contentless)

    # A marker rewritten in place, changing size, while every binding reads it.
    def resizing(home):
        running = threading.Event()
        running.set()
        def churn():
            sizes = [0, 10, 4096, 70_000, (1 << 20) - 1, (1 << 20) + 1, 3 << 20]
            with open(marker_of(home), "r+b") as f:
                i = 0
                while running.is_set():
                    n = sizes[i % len(sizes)]
                    f.seek(0)
                    f.truncate(0)
                    f.write(b'{"principal": "' + b"x" * max(0, n - 17) + b'"}' if n > 17 else b"{" * n)
                    i += 1
        thread = threading.Thread(target=churn, daemon=True)
        thread.start()
        def stop():
            running.clear()
            thread.join()
        return stop
    case("file changing size while read", lambda h: marker_of(h).write_bytes(b"{}"),
         lambda v: isinstance(v, dict), background=resizing)

    # A home that is a symlink to the real folder.
    real = fresh_dir(area, "real-home")
    link = area / "home-link"
    if link.is_symlink():
        link.unlink()
    os.symlink(real, link)
    for b in names:
        r = probes[b].run("write", link, f"via-{b}")
        T.check(r.rc == 0 and payload(raw_marker(real), f"via-{b}") is not None and link.is_symlink(),
                f"home is a symlink: {b} write: {r.stdout!r}")
        r = probes[b].run("read", link)
        T.check((r.out or {}).get("read", {}).get("principal") == f"via-{b}", f"home is a symlink: {b} read {r.stdout!r}")
        r = probes[b].run("clear", link)
        T.check((r.out or {}).get("existed") is True and raw_marker(real) is None, f"home is a symlink: {b} clear {r.stdout!r}")

    # --- arguments from each binding ---
    def unchanged_error(b, args, what, want_errno=None, want_status=None):
        before = snapshot(area)
        r = probes[b].run(*args)
        timed(r, what)
        out = r.out or {}
        ok = out.get("ok") is False
        if want_errno is not None:
            ok = ok and out.get("errno") == want_errno
        if want_status is not None:
            ok = ok and out.get("status") in want_status
        T.check(ok, f"{what}: {r.stdout.strip()[:300]!r} {r.stderr[-300:]!r}")
        T.check(snapshot(area) == before, f"{what}: the disk changed")
        T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{what}: {r.stderr[-300:]!r}")

    nul_home = "hex:" + (str(area / "nul") + "\0rest").encode().hex()
    for b in names:
        if b == "c":
            T.note("a path with a NUL byte cannot be passed through the C ABI: a C string ends at its NUL")
            continue
        unchanged_error(b, ["write", nul_home, "x"], f"path with a NUL byte: {b} write")
        if b == "python":
            # The original's contract: clear_drain_request logs and returns False.
            r = probes[b].run("clear", nul_home)
            T.check((r.out or {}).get("existed") is False and "WARNING" in r.stderr,
                    f"path with a NUL byte: python clear: {r.stdout!r} {r.stderr[-300:]!r}")
        else:
            unchanged_error(b, ["clear", nul_home], f"path with a NUL byte: {b} clear")
        r = probes[b].run("read", nul_home)
        T.check((r.out or {}).get("read") is None and r.rc != -999 and "Traceback" not in r.stderr,
                f"path with a NUL byte: {b} read: {r.stdout!r} {r.stderr[-300:]!r}")
        T.check(not (area / "nul").exists(), f"path with a NUL byte: {b}: the prefix was created")

    for b in names:
        raw_home = os.fsencode(str(area)) + b"/non-utf8-\xff\xfe-" + b.encode()
        hex_home = "hex:" + raw_home.hex()
        r = probes[b].run("write", hex_home, "bytes")
        T.check(r.rc == 0, f"non-UTF-8 path: {b} write: {r.stdout!r} {r.stderr[-200:]!r}")
        T.check(payload(raw_marker(Path(os.fsdecode(raw_home))), "bytes") is not None, f"non-UTF-8 path: {b}: no marker at the byte path")
        r = probes[b].run("read", hex_home)
        T.check(((r.out or {}).get("read") or {}).get("principal") == "bytes", f"non-UTF-8 path: {b} read {r.stdout!r}")
        r = probes[b].run("clear", hex_home)
        T.check((r.out or {}).get("existed") is True, f"non-UTF-8 path: {b} clear {r.stdout!r}")

    # An empty path: the current folder for C, Rust and Python (Path("") as the original
    # had it); Go documents "" as the default home (HERMES_HOME).
    cwd = fresh_dir(area, "empty-cwd")
    hermes = fresh_dir(area, "empty-hermes-home")
    env = dict(os.environ, HERMES_HOME=str(hermes))
    for b in names:
        r = probes[b].run("write", "", "empty", env=env, cwd=cwd)
        where = hermes if b == "go" else cwd
        elsewhere = cwd if b == "go" else hermes
        T.check(r.rc == 0 and payload(raw_marker(where), "empty") is not None and raw_marker(elsewhere) is None,
                f"empty path: {b} write landed elsewhere than {where}: {r.stdout!r} {r.stderr[-200:]!r}")
        r = probes[b].run("clear", "", env=env, cwd=cwd)
        T.check((r.out or {}).get("existed") is True and raw_marker(where) is None, f"empty path: {b} clear {r.stdout!r}")
    T.note("an empty home means the current folder in C, Rust and Python (as the original's "
           "Path('')) but the default home (HERMES_HOME) in Go, as go/draincontrol.go documents")

    long_home = area / ("long" + "/x" * 2500)
    for b in names:
        unchanged_error(b, ["write", long_home, "x"], f"5000-byte path: {b} write", want_errno=errnos.ENAMETOOLONG)
        if b == "python":
            # The original's contract: clear_drain_request logs and returns False.
            r = probes[b].run("clear", long_home)
            T.check((r.out or {}).get("existed") is False and os.strerror(errnos.ENAMETOOLONG) in r.stderr,
                    f"5000-byte path: python clear: {r.stdout!r} {r.stderr[-200:]!r}")
        else:
            unchanged_error(b, ["clear", long_home], f"5000-byte path: {b} clear", want_errno=errnos.ENAMETOOLONG)
        r = probes[b].run("read", long_home)
        timed(r, f"5000-byte path: {b} read")
        T.check((r.out or {}).get("ok") is True and r.out.get("read") is None, f"5000-byte path: {b} read {r.stdout!r}")
    T.check(not (area / "long").exists(), "5000-byte path: a folder was created")

    evil = "dash\nWARNING forged line\r\x1b[31mred\x07\x00end\u2028"
    evil_c = evil.replace("\x00", "")  # a C string, and a Go/C argument, cannot hold NUL
    principal_file = area / "evil-principal"
    for b in names:
        home = fresh_dir(area, f"evil-{b}")
        value = evil if b in ("python", "rust") else evil_c
        principal_file.write_bytes(value.encode())
        r = probes[b].run("write", home, f"file:{principal_file}")
        T.check(r.rc == 0, f"control characters in the principal: {b} write {r.stdout!r} {r.stderr[-200:]!r}")
        body = payload(raw_marker(home))
        T.check(body is not None and body["principal"] == value, f"control characters: {b} wrote {raw_marker(home)!r}")

    # Payloads the reader would not read back as written: every writer refuses them
    # before touching the disk (issue 11), over an old marker or into a missing home.
    touching = {"create home", "create temp", "keep owner", "keep mode", "write temp", "fsync temp",
                "rename", "open folder", "fsync folder", "unlink"}
    refusals = [0]

    def refused(b: str, principal_arg: str, what: str, judge) -> None:
        """The write fails (judge(out) says how it must), the old marker (or its
        absence: no home created) stays byte for byte, no temp file appears, and no
        system call between the probe's sentinels creates, writes, renames or removes."""
        for has_old in (True, False):
            refusals[0] += 1
            parent = fresh_dir(area, f"refused-{refusals[0]}")
            home = parent / "home"
            if has_old:
                put_old(home)
            label_ = f"{what}: {b} write {'over a marker' if has_old else 'into a missing home'}"
            before = snapshot(parent)
            r = probes[b].run("write", home, principal_arg)
            timed(r, label_)
            out = r.out or {}
            wrong = "it did not fail" if out.get("ok") is not False else judge(b, out, home)
            T.check(wrong is None, f"{label_}: {wrong}: {r.stdout.strip()[:400]!r} {r.stderr[-300:]!r}")
            T.check(snapshot(parent) == before and raw_marker(home) == (OLD_BYTES if has_old else None)
                    and home.exists() == has_old and temps(home) == [],
                    f"{label_}: the disk changed: {snapshot(parent)!r}")
            T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{label_}: {r.stderr[-300:]!r}")
            if has_old:
                calls = traced_calls(probes[b], ["write", home, principal_arg], lambda: None)
                touched = [c.text for c in calls if c.step in touching]
                T.check(touched == [] and raw_marker(home) == OLD_BYTES and temps(home) == [],
                        f"{label_}: system calls that touch the disk before the refusal: {touched}")

    def over_limit(b: str, out: dict, home: Path) -> Optional[str]:
        """A payload refused for its size: a status of its own (C, Go, Rust: the step
        check_payload, naming the marker, untouched; Python: ValueError), and a message
        naming the argument and the limit."""
        message = out.get("message") or ""
        if "principal" not in message or "1048576" not in message:
            return "the message names neither the principal nor the limit"
        if b == "python":
            return None if out.get("status") == "ValueError" else "want ValueError"
        if out.get("status") != "invalid_payload" or out.get("errno") is not None:
            return "want the status invalid_payload, no errno"
        if out.get("step") != "check_payload" or out.get("marker") != str(marker_of(home)) \
                or out.get("marker_untouched") is not True:
            return "want the step check_payload, the marker named, untouched"
        if b == "c" and (out.get("os_error") != 0 or out.get("path") != str(marker_of(home))):
            return "want os_error 0 and the marker as the path"
        return None

    overhead = len(json.dumps({"action": "drain", "requested_at": "2026-01-01T00:00:00.000000+00:00",
                               "principal": "", "epoch": EPOCH, "suppress_notification": False},
                              indent=2, ensure_ascii=False).encode())
    fits = (1 << 20) - overhead  # the longest ASCII principal whose marker a reader reads
    principal_file = area / "big-principal"
    for label_, text in (("1 MiB principal", "p" * (1 << 20)),
                         ("principal 1 byte over the limit", "p" * (fits + 1)),
                         ("principal that JSON escaping makes over 1 MiB", "\x01" * 200_000),
                         ("principal of 600,000 two-byte characters", "\u00e9" * 600_000)):
        principal_file.write_bytes(text.encode())
        for b in names:
            refused(b, f"file:{principal_file}", label_, over_limit)

    # The longest principal that fits is written, and every reader reads it back whole.
    principal_file.write_bytes(b"q" * fits)
    for b in names:
        home = fresh_dir(area, f"fits-{b}")
        r = probes[b].run("write", home, f"file:{principal_file}")
        timed(r, f"principal at the limit: {b} write")
        raw = raw_marker(home)
        T.check(r.rc == 0 and payload(raw, "q" * fits) is not None and raw is not None and len(raw) <= 1 << 20,
                f"principal at the limit: {b} write {r.stdout[:300]!r}, a marker of {len(raw or b'')} bytes")
        for reader in names:
            r = probes[reader].run("read", home)
            read = (r.out or {}).get("read")
            T.check(isinstance(read, dict) and read == json.loads(raw or b"null"),
                    f"principal at the limit: {reader} reading {b}'s marker: {r.stdout[:200]!r}")

    # A marker over 1 MiB, as the original module wrote a 1 MiB principal: contentless.
    big_home = fresh_dir(area, "big-marker")
    big_body = {"action": "drain", "requested_at": "2026-01-01T00:00:00+00:00", "principal": "p" * (1 << 20),
                "epoch": EPOCH, "suppress_notification": False}
    marker_of(big_home).write_bytes(json.dumps(big_body, indent=2).encode())
    for reader in names:
        r = probes[reader].run("inspect", big_home)
        T.check((r.out or {}).get("present") is True and r.out.get("active") is True,
                f"a marker over 1 MiB: {reader} inspect (contentless, active): {r.stdout!r}")
        r = probes[reader].run("read", big_home)
        T.check((r.out or {}).get("read") == {}, f"a marker over 1 MiB: {reader} read is not contentless: {r.stdout[:200]!r}")

    def status_in(want: set, needle: str):
        def judge(b: str, out: dict, home: Path) -> Optional[str]:
            if out.get("status") not in want:
                return f"want a status in {sorted(want)}"
            if needle not in (out.get("message") or ""):
                return f"the message does not name {needle!r}"
            return None
        return judge

    # Go's error for it is a *StatusError whose text is the status's ("a text argument was
    # not valid UTF-8"): it does not say which argument; C's drain_error and Python do.
    for b, want, needle in (("c", {"invalid_utf8"}, "principal"), ("go", {"invalid_utf8"}, "UTF-8"),
                            ("python", {"ValueError"}, "principal")):
        if b in probes:
            refused(b, "hex:ff6e6f", "non-UTF-8 principal", status_in(want, needle))
    if "python" in probes:
        for literal in ("5", "None", "b'dash'", "['dash']"):
            refused("python", f"py:{literal}", f"principal {literal} (no str)", status_in({"TypeError"}, "principal"))
    T.note("drainctl takes its principal as one argument (128 KiB at most): it cannot be given one over 1 MiB")
    T.note("a non-UTF-8 principal cannot reach the Rust API (&str is UTF-8)")

    # Log injection: warnings quoting a hostile principal or path stay one escaped line.
    expired = fresh_dir(area, "expired-evil")
    body = {"action": "drain", "requested_at": "2000-01-01T00:00:00+00:00", "principal": evil,
            "epoch": EPOCH, "suppress_notification": False}
    marker_of(expired).write_bytes(json.dumps(body, indent=2).encode())
    evil_path = area / "evil\nWARNING forged\x1b[2J path"
    evil_path.mkdir()
    marker_of(evil_path).mkdir()
    # JSON text leaves C1 controls (U+0085 NEL) and U+2028/U+2029 raw: a principal
    # that is not a string must not smuggle them into the log either.
    expired_list = fresh_dir(area, "expired-evil-list")
    body_list = dict(body, principal=["x\u0085WARNING forged\u2028y", {"k": "\u2029"}])
    marker_of(expired_list).write_bytes(json.dumps(body_list, ensure_ascii=False).encode())
    for b in ("rust", "python"):
        if b not in probes:
            continue
        r = probes[b].run("inspect", expired)
        one_warning_line(r.stderr, f"log injection through an expired marker's principal: {b}", "expired drain marker")
        r = probes[b].run("inspect", expired_list)
        one_warning_line(r.stderr, f"log injection through a principal that is a list: {b}", "expired drain marker")
        r = probes[b].run("read", evil_path)
        one_warning_line(r.stderr, f"log injection through an unreadable marker's path: {b}", "forged")
    # A failed clear on a path with a newline: Python logs it (and returns False); the
    # Rust error's text (what a host would log) quotes the path escaped.
    if "python" in probes:
        r = probes["python"].run("clear", evil_path)
        one_warning_line(r.stderr, "log injection through a failed clear's path: python", "forged")
    r = probes["rust"].run("clear", evil_path)
    message = (r.out or {}).get("message", "")
    T.check(r.out is not None and r.out.get("ok") is False and "\n" not in message
            and "\x1b" not in message and "\\n" in message,
            f"log injection through a failed clear's path: the Rust error reads {message!r}")
    T.note("C and Go log nothing themselves (the Rust log facade has no logger there)")


# --- main ------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="+", choices=["crash", "race", "faults", "real", "hostile", "all"])
    parser.add_argument("--long", action="store_true", help="the long runs of RELIABILITY.md")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    suites = ["hostile", "faults", "real", "crash", "race"] if "all" in args.suites else args.suites
    if shutil.which("strace") is None and ("crash" in suites or "faults" in suites):
        sys.exit("suite.py: strace is missing")
    probes = probes_from_env()
    print(f"reliability: probes {', '.join(probes)}; epoch {EPOCH!r}; seed {args.seed}", flush=True)
    if "python" not in probes:
        T.suite = "setup"
        T.note("no Python wheel (PROBE_PYTHON): the Python participants are skipped")
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="drain-reliability-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    os.chmod(base, 0o755)
    global OLD_BYTES
    OLD_BYTES = seed_old(probes, base)
    try:
        for suite in suites:
            started = time.monotonic()
            T.suite = suite
            {"crash": lambda: crash_suite(probes, base, args.long, rng),
             "race": lambda: race_suite(probes, base, args.long),
             "faults": lambda: faults_suite(probes, base, args.long),
             "real": lambda: real_suite(probes, base),
             "hostile": lambda: hostile_suite(probes, base)}[suite]()
            T.suite = suite
            T.row()[3] = time.monotonic() - started
    finally:
        subprocess.run(["umount", "-l", str(base / "mnt")], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    print("\nreliability summary:")
    checks = failed = skipped = 0
    for suite, (c, f, s, secs) in T.rows.items():
        print(f"  {suite:8} {c:6} checks  {f:4} failed  {s:3} skipped  {secs:6.1f}s")
        checks, failed, skipped = checks + c, failed + f, skipped + s
    for note in T.notes:
        print(f"  note {note}")
    print(f"reliability: {checks} checks, {failed} failed, {skipped} skipped (seed {args.seed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
