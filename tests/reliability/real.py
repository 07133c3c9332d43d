"""The real suite: a full tmpfs, a read-only remount, another user's home (as nobody,
through copies staged by nobody.stage_for_user). Root only."""

import errno as errnos
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import common
from common import T, marker_of, payload, put_old, raw_marker, readers_agree, snapshot, temps
from faults import names_failure
from nobody import public_folder, stage_for_user


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
            T.check(r.out is not None and r.out.get("read") == json.loads(common.OLD_BYTES), f"other user: {name} cannot read a 0644 marker: {r.stdout!r} {r.stderr!r}")
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
