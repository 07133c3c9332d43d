"""The Python rows: ours (the installed drain_control wheel) and the original module
(drain_control_seed, from the folder of $DRAIN_BASELINE, which the caller puts on
sys.path; its rows are left out when it cannot be imported), side by side in one
process, next to the floor of benches/floor.c ($DRAIN_BENCH_FLOOR_LIB, through ctypes).

    py_bench.py poll|read BUDGET_MS REPS NAME=DIR...
        for each of REPS rounds and each case in turn: the floor's loop in C, then ours,
        then the original, each for about BUDGET_MS (timeit, garbage collection off
        while timing); prints "floor:NAME", "ours:NAME", "orig:NAME" (median ns per
        call) and "ratio-ours:NAME", "ratio-orig:NAME" (to the floor) and
        "speedup:NAME" (original / ours), medians of the ratios within a round;
    py_bench.py write|clear N FLOOR_DIR OURS_DIR ORIG_DIR
        N rounds of one floor op, one of ours and one of the original's (rotating
        order), each timed alone; the same keys, without NAME;
    py_bench.py memory DIR N
        the resident set in KiB before N polls by ours, after a tenth, after all.
"""

import ctypes
import functools
import gc
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import drain_control as ours

try:
    import drain_control_seed as orig
except ImportError:
    orig = None


def floor_lib():
    lib = ctypes.CDLL(os.environ["DRAIN_BENCH_FLOOR_LIB"])
    lib.drain_floor_poll_ns.restype = ctypes.c_double
    lib.drain_floor_poll_ns.argtypes = [ctypes.c_char_p, ctypes.c_long]
    for name in ("drain_floor_write_ns", "drain_floor_clear_ns"):
        getattr(lib, name).restype = ctypes.c_double
        getattr(lib, name).argtypes = [ctypes.c_char_p]
    return lib


def per_call(op, budget_s):
    """ns per call of op over about budget_s seconds."""
    timer = timeit.Timer(op)
    number = 1
    while True:  # calibrate: grow until one batch takes a tenth of the budget
        took = timer.timeit(number)
        if took >= budget_s / 10:
            break
        number *= 4 if took < budget_s / 100 else 2
    batches = max(1, round(budget_s / took))
    return sum(timer.timeit(number) for _ in range(batches)) / (batches * number) * 1e9


def floor_per_call(lib, marker, budget_s):
    """ns per floor read of `marker` over about budget_s seconds (the loop runs in C)."""
    path = os.fsencode(marker)
    n = 64
    while True:
        took = lib.drain_floor_poll_ns(path, n)
        if took >= budget_s * 1e9 or n > 1 << 40:
            return took / n
        n *= 2


def print_rows(suffix, floors, mine, theirs):
    med = statistics.median
    print(f"floor{suffix} {med(floors):.1f}")
    print(f"ours{suffix} {med(mine):.1f}")
    print(f"ratio-ours{suffix} {med(m / f for m, f in zip(mine, floors)):.4f}")
    if theirs:
        print(f"orig{suffix} {med(theirs):.1f}")
        print(f"ratio-orig{suffix} {med(t / f for t, f in zip(theirs, floors)):.4f}")
        print(f"speedup{suffix} {med(t / m for t, m in zip(theirs, mine)):.4f}")


def reads(mode, budget, reps, cases):
    lib = floor_lib()
    name = "drain_requested" if mode == "poll" else "read_drain_request"
    # Both take `home` as a Path, as the original's callers pass it.
    sides = {"ours": getattr(ours, name)}
    if orig is not None:
        sides["orig"] = getattr(orig, name)
    ops = {
        (side, case): functools.partial(fn, home=home)
        for side, fn in sides.items()
        for case, home in cases
    }
    samples = {key: [] for key in ops}
    floors = {case: [] for case, _ in cases}
    for warm in (True,) + (False,) * reps:
        for case, home in cases:
            took = floor_per_call(lib, home / ".drain_request.json", budget / (4 if warm else 1))
            if not warm:
                floors[case].append(took)
            for side in sides:
                took = per_call(ops[side, case], budget / (4 if warm else 1))
                if not warm:
                    samples[side, case].append(took)
    for case, _ in cases:
        print_rows(f":{case}", floors[case], samples["ours", case], samples.get(("orig", case)))


def timed(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e9


def writes(mode, rounds, floor_dir, ours_dir, orig_dir):
    lib = floor_lib()
    floor_path = os.fsencode(floor_dir)
    if mode == "write":
        ops = [
            lambda: lib.drain_floor_write_ns(floor_path),
            lambda: timed(lambda: ours.write_drain_request(principal="bench", home=ours_dir)),
        ]
        if orig is not None:
            ops.append(
                lambda: timed(lambda: orig.write_drain_request(principal="bench", home=orig_dir))
            )
    else:

        def clear(module, home):
            module.write_drain_request(principal="bench", home=home)
            return timed(lambda: module.clear_drain_request(home=home))

        ops = [lambda: lib.drain_floor_clear_ns(floor_path), lambda: clear(ours, ours_dir)]
        if orig is not None:
            ops.append(lambda: clear(orig, orig_dir))
    samples = [[] for _ in ops]
    gc.disable()
    try:
        for op in ops:
            op()  # warm-up
        for r in range(rounds):
            for k in range(len(ops)):
                i = (r + k) % len(ops)
                samples[i].append(ops[i]())
    finally:
        gc.enable()
    print_rows("", samples[0], samples[1], samples[2] if orig is not None else None)


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory(home, polls):
    for _ in range(1000):
        ours.drain_requested(home=home)
    before = rss_kib()
    tenth = None
    for i in range(polls):
        ours.drain_requested(home=home)
        if i + 1 == polls // 10:
            tenth = rss_kib()
    print(f"before {before}")
    print(f"tenth {tenth}")
    print(f"after {rss_kib()}")


def main():
    mode = sys.argv[1]
    if mode == "memory":
        memory(Path(sys.argv[2]), int(sys.argv[3]))
    elif mode in ("poll", "read"):
        cases = []
        for arg in sys.argv[4:]:
            name, _, folder = arg.partition("=")
            cases.append((name, Path(folder)))
        reads(mode, float(sys.argv[2]) / 1e3, int(sys.argv[3]), cases)
    elif mode in ("write", "clear"):
        writes(mode, int(sys.argv[2]), *(Path(arg) for arg in sys.argv[3:6]))
    else:
        raise SystemExit(f"py_bench: unknown mode {mode}")


if __name__ == "__main__":
    main()
