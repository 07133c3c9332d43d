"""The driver of scripts/bench: runs every row in alternation and prints the table.

Invoked by scripts/bench with the built programs; see BENCHMARKS.md. Every program
prints "NAME <value>" lines; each round runs every program once (in reverse order on
odd rounds), and a ratio is the median over rounds of the ratio within each round, so
drift between rounds hits both sides of a ratio alike.
"""

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

POLL_CASES = ["absent", "active", "stale-epoch", "contentless"]


def run(cmd, env=None, cwd=None):
    out = subprocess.run(
        cmd, env=env, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    values = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return values


def epoch():
    """The current epoch, computed as the contract says (the marker of 'active')."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot_id = ""
    try:
        start = Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = ""
    return f"{boot_id}:{start}" if boot_id or start else ""


def marker_bytes(epoch_value):
    payload = {
        "action": "drain",
        "requested_at": datetime.now(timezone.utc).isoformat(),
        "principal": "bench",
        "epoch": epoch_value,
        "suppress_notification": False,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False).encode()


class Bench:
    def __init__(self, args):
        self.args = args
        self.bin = Path(args.bin)
        self.scratch = Path(tempfile.mkdtemp(prefix="drain-bench-"))
        self.samples = {}  # key -> list of per-round values
        self.python = args.python
        self.baseline = Path(args.baseline) if args.baseline else None
        self.have_python = bool(self.python)
        self.have_baseline = bool(
            self.python and self.baseline and self.baseline.is_file()
        )

    # -- set-up ---------------------------------------------------------------------

    def home(self, name):
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def setup(self):
        current = epoch()
        self.poll_homes = {name: self.home(f"poll/{name}") for name in POLL_CASES}
        (self.poll_homes["active"] / ".drain_request.json").write_bytes(
            marker_bytes(current)
        )
        (self.poll_homes["stale-epoch"] / ".drain_request.json").write_bytes(
            marker_bytes("another-boot:1")
        )
        (self.poll_homes["contentless"] / ".drain_request.json").write_bytes(b"")
        for name in ["floor", "rust", "rust-crowded", "py-ours", "py-orig"]:
            self.home(f"write/{name}")
        # A crowded home: thousands of other files, and young temp files of our own
        # pattern that the sweep must look at (stat) and leave alone.
        crowded = self.home("write/rust-crowded")
        for i in range(self.args.crowd):
            (crowded / f"session-{i:05}.json").write_bytes(b"{}")
        for i in range(100):
            (crowded / f"..drain_request_young{i:03}.tmp").write_bytes(b"")
        for name in ["first-empty", "first-crowded"]:
            self.home(name)
        for i in range(self.args.crowd):
            (self.scratch / "first-crowded" / f"session-{i:05}.json").write_bytes(b"{}")
        for i in range(100):
            (self.scratch / "first-crowded" / f"..drain_request_young{i:03}.tmp").write_bytes(b"")
        self.watch_home = self.home("watch")
        # The original as a host runs it after its first start: from its cached bytecode.
        # (Imported from its own folder it is compiled at every import when that folder
        # holds no __pycache__, as here with PYTHONDONTWRITEBYTECODE=1; our wheel's
        # bytecode is written when pip installs it.)
        self.baseline_bytecode = None
        if self.have_baseline:
            self.baseline_bytecode = self.home("original-bytecode")
            for source in self.baseline.parent.glob("*.py"):
                shutil.copy(source, self.baseline_bytecode / source.name)
            subprocess.run([self.python, "-m", "compileall", "-q", str(self.baseline_bytecode)],
                           check=True, stdout=subprocess.DEVNULL)
        self.memory_home = self.home("memory")
        (self.memory_home / ".drain_request.json").write_bytes(marker_bytes(current))

    def case_args(self, homes):
        return [f"{name}={path}" for name, path in homes.items()]

    def py_env(self, folder=None):
        env = dict(os.environ)
        if folder or self.baseline:
            env["PYTHONPATH"] = str(folder or self.baseline.parent)
        return env

    # -- one round of each program --------------------------------------------------

    def record(self, prefix, values):
        for name, value in values.items():
            self.samples.setdefault(f"{prefix}/{name}", []).append(value)

    def programs(self):
        a = self.args
        poll = self.case_args(self.poll_homes)
        budget, reps = str(a.budget_ms), str(a.reps)
        progs = [
            ("floor", lambda: run([self.bin / "floor", "poll", budget, reps, *poll])),
            ("c", lambda: run([self.bin / "cpoll", budget, reps, *poll])),
            ("rust", self.rust_poll),
        ]
        if (self.bin / "gopoll").exists():
            progs.append(("go", lambda: run([self.bin / "gopoll", budget, reps, *poll])))
        py = [self.python, str(Path(__file__).with_name("py_bench.py"))] if self.python else None
        env = self.py_env()
        if self.have_python:
            progs.append(("py", lambda: run([*py, "poll", budget, reps, *poll], env)))
            progs.append(("py-read", lambda: run([*py, "read", budget, reps, *poll], env)))
        n = str(a.writes)
        w = lambda name: str(self.scratch / "write" / name)  # noqa: E731
        progs += [
            ("rust-write", lambda: run([self.bin / "misc", "write", n, w("floor"), w("rust"), w("rust-crowded")])),
            ("rust-clear", lambda: run([self.bin / "misc", "clear", n, w("floor"), w("rust")])),
            ("rust-first-write", self.first_writes),
        ]
        if self.have_python:
            progs.append(("py-write", lambda: run([*py, "write", n, w("floor"), w("py-ours"), w("py-orig")], env)))
            progs.append(("py-clear", lambda: run([*py, "clear", n, w("floor"), w("py-ours"), w("py-orig")], env)))
            progs.append(("import", self.imports))
        return progs

    def rust_poll(self):
        crit_home = self.scratch / "criterion"
        env = dict(os.environ)
        env["DRAIN_BENCH_CASES"] = ",".join(self.case_args(self.poll_homes))
        env["CRITERION_HOME"] = str(crit_home)
        subprocess.run(
            [
                self.bin / "poll",
                "--bench",
                "--warm-up-time", str(self.args.budget_ms / 1e3),
                "--measurement-time", str(self.args.budget_ms * self.args.reps / 1e3),
                "--sample-size", "10",
                "--noplot",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        values = {}
        for name in POLL_CASES:
            def median(bench):
                path = crit_home / "poll" / bench / "new" / "estimates.json"
                return json.loads(path.read_text())["median"]["point_estimate"]

            values[name] = median(name)
            values[f"floor:{name}"] = median(f"floor-{name}")
            values[f"ratio:{name}"] = values[name] / values[f"floor:{name}"]
        return values

    def first_writes(self):
        """The first write of a fresh process (the one that sweeps), empty vs crowded."""
        values = {}
        for name in ["first-empty", "first-crowded"]:
            got = run([self.bin / "misc", "first-write", str(self.scratch / name)])
            values[name] = got["first-write"]
        return values

    # What either module imports from the standard library: a host (the gateway, the
    # dashboard) has most of these loaded already, so the "warm" rows import them first
    # and time only what the module itself adds.
    STDLIB = "import functools, json, logging, pathlib, datetime, typing, importlib.util, tempfile, stat"

    # The import and the first poll (no marker), timed together inside the process:
    # what a module defers to its first use shows here. `time` is a built-in module.
    FIRST_POLL = (
        "import time; t = time.perf_counter(); import {module} as m; "
        "m.drain_requested(home={home!r}); print('first', (time.perf_counter() - t) * 1e9)"
    )

    def imports(self):
        values = {}
        jobs = [("ours", "drain_control", None)]
        if self.have_baseline:
            jobs.append(("orig", "drain_control_seed", self.py_env()))
            jobs.append(("orig-pyc", "drain_control_seed", self.py_env(self.baseline_bytecode)))
        jobs += [(f"{label}-warm", module, env) for label, module, env in jobs]
        home = str(self.poll_homes["absent"])
        for label, module, env in jobs:
            code = self.FIRST_POLL.format(module=module, home=home)
            if label.endswith("-warm"):
                code = f"{self.STDLIB}; {code}"
            got = run([self.python, "-c", code], env=env)
            if "first" in got:
                values[f"first-{label}"] = got["first"]
            code = f"import {module}"
            if label.endswith("-warm"):
                code = f"{self.STDLIB}; {code}"
            err = subprocess.run(
                [self.python, "-X", "importtime", "-c", code],
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            ).stderr
            # "import time: self [us] | cumulative | imported package"; the module's
            # own line (not indented) holds the cumulative time of its whole import.
            for line in err.splitlines():
                m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
                if m and m.group(2).strip() == module:
                    values[label] = float(m.group(1)) * 1e3  # ns
        return values

    # -- the rounds ----------------------------------------------------------------

    def rounds(self):
        progs = self.programs()
        for r in range(self.args.rounds):
            order = progs if r % 2 == 0 else list(reversed(progs))
            started = time.monotonic()
            for key, fn in order:
                self.record(key, fn())
            self.round_ratios()
            print(
                f"  round {r + 1}/{self.args.rounds}: {time.monotonic() - started:.1f}s, "
                f"load {os.getloadavg()[0]:.2f}",
                file=sys.stderr,
                flush=True,
            )

    def last(self, key):
        values = self.samples.get(key)
        return values[-1] if values else None

    def ratio(self, name, num, den):
        a, b = self.last(num), self.last(den)
        if a is not None and b:
            self.samples.setdefault(name, []).append(a / b)

    def round_ratios(self):
        """The ratios between programs, within the round just run."""
        self.ratio("first-write/crowded-empty", "rust-first-write/first-crowded",
                   "rust-first-write/first-empty")
        self.ratio("import/ours/orig", "import/ours", "import/orig")
        self.ratio("import/ours-warm/orig-warm", "import/ours-warm", "import/orig-warm")
        self.ratio("import/ours/orig-pyc", "import/ours", "import/orig-pyc")
        self.ratio("import/ours-warm/orig-pyc-warm", "import/ours-warm", "import/orig-pyc-warm")
        for suffix in ["", "-warm"]:
            for orig in ["orig", "orig-pyc"]:
                self.ratio(f"import/first-ours{suffix}/first-{orig}{suffix}",
                           f"import/first-ours{suffix}", f"import/first-{orig}{suffix}")

    def once(self):
        """The rows measured once: watcher delay, memory."""
        self.watch = run([self.bin / "misc", "watch", str(self.watch_home), str(self.args.changes)])
        self.mem_rust = run([self.bin / "misc", "memory", str(self.memory_home), str(self.args.polls)])
        self.mem_py = None
        if self.have_python:
            py = [self.python, str(Path(__file__).with_name("py_bench.py"))]
            self.mem_py = run([*py, "memory", str(self.memory_home), str(self.args.polls)])

    # -- the table -------------------------------------------------------------------

    def med(self, key):
        values = self.samples.get(key)
        return statistics.median(values) if values else None

    def spread(self, key):
        """Half the range of a row over rounds, relative to its median."""
        values = self.samples.get(key)
        if not values or len(values) < 2:
            return ""
        m = statistics.median(values)
        return f"±{(max(values) - min(values)) / 2 / m * 100:.0f}%" if m else ""

    def table(self):
        rows, targets = [], []
        na = "not available"

        def t(value):
            if value is None:
                return na
            if value >= 1e6:
                return f"{value / 1e6:.2f} ms"
            if value >= 1e4:
                return f"{value / 1e3:.1f} µs"
            return f"{value / 1e3:.2f} µs"

        def x(value):
            return "—" if value is None else f"{value:.2f}x"

        def row(label, key, ratio_key=None, note=""):
            rows.append((label, t(self.med(key)), self.spread(key),
                         x(self.med(ratio_key)) if ratio_key else "", note))

        def section(title):
            rows.append((f"## {title}", "", "", "", ""))

        def target(name, value, limit, op="<="):
            if value is None:
                targets.append((name, "not available", "MISS"))
                return
            ok = value <= limit if op == "<=" else value >= limit if op == ">=" else value < limit
            targets.append((name, f"{value:.2f} ({op} {limit})", "PASS" if ok else "MISS"))

        section("drain_requested (vs floor: the floor timed next to it, same process)")
        for case in POLL_CASES:
            row(f"{case}: floor (C program: syscalls only)", f"floor/{case}")
            for lang, label in [("c", "C (static lib)"), ("rust", "Rust (criterion)"),
                                ("go", "Go (testing.B)")]:
                cgo = self.med(f"{lang}/ratio-cgo:{case}") if lang == "go" else None
                row(f"{case}: {label}", f"{lang}/{case}", f"{lang}/ratio:{case}",
                    f"{cgo:.2f}x the floor called through cgo once per poll" if cgo else "")
            row(f"{case}: Python, ours", f"py/ours:{case}", f"py/ratio-ours:{case}")
            sp = self.med(f"py/speedup:{case}")
            row(f"{case}: Python, original", f"py/orig:{case}", f"py/ratio-orig:{case}",
                f"ours is {sp:.2f}x faster" if sp else "")
        section("read_drain_request (Python)")
        for case in POLL_CASES:
            row(f"{case}: ours", f"py-read/ours:{case}", f"py-read/ratio-ours:{case}")
            sp = self.med(f"py-read/speedup:{case}")
            row(f"{case}: original", f"py-read/orig:{case}", f"py-read/ratio-orig:{case}",
                f"ours is {sp:.2f}x faster" if sp else "")
        section(f"write (keep-alive over an existing marker) and clear; median of {self.args.writes} "
                "single ops per round, vs the floor op timed alternately in the same process")
        row("write: floor (C: temp, write, fsync, rename, folder fsync)", "rust-write/floor")
        row("write: Rust", "rust-write/empty", "rust-write/ratio:empty")
        row(f"write: Rust, home with {self.args.crowd} other files", "rust-write/crowded",
            "rust-write/ratio:crowded",
            f"{x(self.med('rust-write/ratio:crowded-empty'))} of the empty home")
        row("write: Python, ours", "py-write/ours", "py-write/ratio-ours")
        sp = self.med("py-write/speedup")
        row("write: Python, original (no folder fsync)", "py-write/orig", "py-write/ratio-orig",
            f"ours takes {1 / sp:.2f}x its time" if sp else "")
        row("first write of a process (it sweeps): empty home", "rust-first-write/first-empty")
        row(f"first write of a process (it sweeps): {self.args.crowd} other files",
            "rust-first-write/first-crowded", None,
            f"{x(self.med('first-write/crowded-empty'))} of the empty home")
        row("clear: floor (C: unlink, folder fsync)", "rust-clear/floor")
        row("clear: Rust", "rust-clear/ours", "rust-clear/ratio:ours")
        row("clear: Python, ours", "py-clear/ours", "py-clear/ratio-ours")
        sp = self.med("py-clear/speedup")
        row("clear: Python, original (no folder fsync)", "py-clear/orig", "py-clear/ratio-orig",
            f"ours takes {1 / sp:.2f}x its time" if sp else "")
        section("import (python -X importtime: the module's cumulative time; with the first poll: wall clock in the process)")
        for prefix, what in [("", "import"),
                             ("first-", "import + first drain_requested() (no marker)")]:
            for suffix, label in [("", "fresh interpreter"), ("-warm", "stdlib already loaded")]:
                ours, orig = f"import/{prefix}ours{suffix}", f"import/{prefix}orig{suffix}"
                r = self.med(f"{ours}/{prefix}orig{suffix}")
                r_pyc = self.med(f"{ours}/{prefix}orig-pyc{suffix}")
                note = f"{x(r)} of the original's" if r else ""
                if r_pyc:
                    note += f"; {x(r_pyc)} of the original's from its cached bytecode"
                row(f"{what}, {label}: ours", ours, None, note)
                row(f"{what}, {label}: original", orig)
                row(f"{what}, {label}: original, from its cached bytecode",
                    f"import/{prefix}orig-pyc{suffix}")
        w = self.watch
        section(f"watcher: change → notification, {self.args.changes} changes (appear/disappear alternating)")
        rows.append(("watcher (inotify), from the rename/unlink's return: p50", t(w.get("p50")), "", "", ""))
        rows.append(("watcher (inotify), from the rename/unlink's return: p99", t(w.get("p99")), "", "",
                     f"max {t(w.get('max'))}"))
        early = w.get("api-early")
        rows.append(("watcher, from drain_control::write/clear's return: p50", t(w.get("api-p50")), "", "",
                     f"{early:.0f}/{self.args.changes} notified before the call returned (counted as 0)"
                     if early is not None else ""))
        rows.append(("watcher, from drain_control::write/clear's return: p99", t(w.get("api-p99")), "", "", ""))
        rows.append(("polling once a second (expected): mean and p50 / p99", "500 ms / 990 ms", "", "",
                     "the change lands at a uniformly random point of the period"))
        section(f"memory (RSS) of a process polling an active marker {self.args.polls:,} times")
        for label, mem in [("Rust", self.mem_rust), ("Python, ours", self.mem_py)]:
            if mem:
                growth = mem["after"] - mem["before"]
                steady = mem["after"] - mem.get("tenth", mem["before"])
                rows.append((f"memory: {label}", f"{mem['before']:.0f} → {mem['after']:.0f} KiB", "", "",
                             f"growth {growth:+.0f} KiB; over the last 90% of the polls {steady:+.0f} KiB"))
            else:
                rows.append((f"memory: {label}", na, "", "", ""))

        for lang, label, limit in [("c", "C", 1.15), ("rust", "Rust", 1.15), ("go", "Go", 1.3)]:
            target(f"active: {label} ≤ {limit}x floor", self.med(f"{lang}/ratio:active"), limit)
        target("active: Python ≤ 1.5x floor", self.med("py/ratio-ours:active"), 1.5)
        target("active: Python ≥ 8x faster than the original", self.med("py/speedup:active"), 8, ">=")
        for lang, label in [("c", "C"), ("rust", "Rust"), ("go", "Go")]:
            target(f"absent: {label} ≤ 1.3x failing-open floor", self.med(f"{lang}/ratio:absent"), 1.3)
        target("absent: Python ≤ 1.3x failing-open floor", self.med("py/ratio-ours:absent"), 1.3)
        target("write: Rust ≤ 1.2x write floor", self.med("rust-write/ratio:empty"), 1.2)
        target("write: Python ≤ 1.2x write floor", self.med("py-write/ratio-ours"), 1.2)
        target("write: crowded home ≤ 1.2x empty home (keep-alive)",
               self.med("rust-write/ratio:crowded-empty"), 1.2)
        target("write: crowded home ≤ 1.2x empty home (first write, sweeping)",
               self.med("first-write/crowded-empty"), 1.2)
        # The original as the bench finds it (a source file, compiled at import when no
        # bytecode is cached) and with its bytecode cached, as a host would have it.
        target("import ≤ 0.25x the original's (fresh interpreter)", self.med("import/ours/orig"), 0.25)
        target("import ≤ 0.25x the original's (stdlib already loaded)",
               self.med("import/ours-warm/orig-warm"), 0.25)
        target("import ≤ 0.25x the original's from cached bytecode (fresh interpreter)",
               self.med("import/ours/orig-pyc"), 0.25)
        target("import ≤ 0.25x the original's from cached bytecode (stdlib already loaded)",
               self.med("import/ours-warm/orig-pyc-warm"), 0.25)
        p99 = w.get("p99")
        target("watcher p99 < 10 ms (ms)", None if p99 is None else p99 / 1e6, 10, "<")
        for label, mem in [("Rust", self.mem_rust), ("Python", self.mem_py)]:
            target(f"memory growth over {self.args.polls:,} polls, {label} < 1024 KiB",
                   None if not mem else mem["after"] - mem["before"], 1024, "<")
        return rows, targets

    def machine(self):
        cpu = "unknown"
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        fs = subprocess.run(["df", "-T", str(self.scratch)], stdout=subprocess.PIPE, text=True).stdout
        fs = fs.splitlines()[-1].split()[1] if fs.strip() else "unknown"
        return (f"machine: {os.cpu_count()} CPUs ({cpu}), kernel {os.uname().release}, "
                f"temp dir {self.scratch.parent} on {fs}")

    def print_table(self, elapsed):
        rows, targets = self.table()
        out = [self.machine(), ""]
        out.append("| row | median | spread | vs floor | note |")
        out.append("|---|---:|---:|---:|---|")
        for row in rows:
            if row[0].startswith("## "):
                out.append(f"| **{row[0][3:]}** | | | | |")
            else:
                out.append("| " + " | ".join(row) + " |")
        out.append("")
        out.append("| target | measured | result |")
        out.append("|---|---:|---|")
        for name, value, result in targets:
            out.append(f"| {name} | {value} | {result} |")
        out.append("")
        passed = sum(1 for *_, r in targets if r == "PASS")
        out.append(
            f"{passed}/{len(targets)} targets met; {self.args.rounds} rounds, medians over rounds; "
            f"spread = half the range over rounds; ran {elapsed:.0f}s; "
            f"load average at the end {os.getloadavg()[0]:.2f}"
        )
        text = "\n".join(out)
        print(text)
        if self.args.out:
            Path(self.args.out).write_text(text + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--python", default="")
    parser.add_argument("--baseline", default="")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=60)
    parser.add_argument("--writes", type=int, default=15, help="single writes per round")
    parser.add_argument("--crowd", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--polls", type=int, default=1_000_000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    started = time.monotonic()
    bench = Bench(args)
    try:
        bench.setup()
        bench.rounds()
        bench.once()
        bench.print_table(time.monotonic() - started)
    finally:
        shutil.rmtree(bench.scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
