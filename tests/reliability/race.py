"""The race suite: two writers, a clearer and four readers on one home; every read is
absent or a complete payload a writer wrote, and the final state is the last
operation's."""

import json
import shutil
import time
from pathlib import Path

from common import EPOCH, ISO_RE, KEYS, T, payload, raw_marker, temps


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
