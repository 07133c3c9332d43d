"""The crash suite: SIGKILL at every system call of a write and a clear (C and Rust,
Go too with --long), and at random moments of write and clear loops; the marker is the
complete old or new content, readers agree, and the next write sweeps the leftovers."""

import random
import shutil
import time
from pathlib import Path

import common
from common import T, link_target, marker_of, payload, put_old, put_old_linked, raw_marker, readers_agree, \
    sweep_check, temps, traced_calls


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
                    ok = raw is None or raw == common.OLD_BYTES
                elif has_old:
                    ok = raw == common.OLD_BYTES or payload(raw, new) is not None
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
        T.check(raw is None or raw == common.OLD_BYTES or payload(raw, pattern=r"(rnd-\d+|sweeper)") is not None,
                f"{what}: the marker is {raw!r}")
        readers_agree(probes, home, what, which=("c",) if i % 10 else ("c", "go", "rust"))
        random_leftovers += sweep_check(probes, home, what)
    print(f"  crash: {count} random kills in {time.monotonic() - started:.0f}s, "
          f"{random_leftovers} left a temp file", flush=True)
