"""The bench driver's measurements (run.py): the homes and markers it sets up, every
program of a round, the rounds in alternation with the ratios within each, and the
rows measured once. The table is report.py's."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import POLL_CASES, epoch, marker_bytes, run


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
