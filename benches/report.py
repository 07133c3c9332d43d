"""The bench driver's table (run.py): the rows, with medians and spreads over rounds,
the targets met or missed, and the machine it ran on."""

import os
import statistics
import subprocess
from pathlib import Path

from harness import POLL_CASES


class Report:
    """The table of a finished Bench: its samples and the rows it measured once."""

    def __init__(self, bench):
        self.args = bench.args
        self.scratch = bench.scratch
        self.samples = bench.samples
        self.watch = bench.watch
        self.mem_rust = bench.mem_rust
        self.mem_py = bench.mem_py

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
