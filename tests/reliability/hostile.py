"""The hostile suite: odd files at the marker path, odd paths and principals from every
binding, payloads the reader would not read back, and warnings that cannot forge log
lines."""

import errno as errnos
import json
import os
import re
import socket
import stat
import threading
from pathlib import Path
from typing import Optional

import common
from common import EPOCH, LIMIT_US, MARKER, T, Run, fresh_dir, marker_of, payload, put_old, raw_marker, \
    snapshot, temps, traced_calls
from faults import names_failure


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
            T.check(snapshot(parent) == before and raw_marker(home) == (common.OLD_BYTES if has_old else None)
                    and home.exists() == has_old and temps(home) == [],
                    f"{label_}: the disk changed: {snapshot(parent)!r}")
            T.check("Traceback" not in r.stderr and "panic" not in r.stderr, f"{label_}: {r.stderr[-300:]!r}")
            if has_old:
                calls = traced_calls(probes[b], ["write", home, principal_arg], lambda: None)
                touched = [c.text for c in calls if c.step in touching]
                T.check(touched == [] and raw_marker(home) == common.OLD_BYTES and temps(home) == [],
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
