"""What every reliability suite shares: the bookkeeping (Tally, the counted checks),
the probes (Run, Probe, probes_from_env), the marker on disk (payload, snapshot, the
old marker), strace's view of one library call (traced_calls) and the checks several
suites make (readers_agree, sweep_check). See README.md in this folder."""

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


# The old marker, set once by suite.py (common.OLD_BYTES = seed_old(...)). Other
# modules read it as common.OLD_BYTES: importing the name would copy the empty value.
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
