"""What nobody runs: copies of the probes staged in a new folder every user can enter
(stage_for_user), for the real suite's other-user checks and the leases suite's
unwritable home."""

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Optional

from common import NOBODY, T, Probe, as_arg


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
    """The Python probe for nobody: probe.py (with probe_lease.py) and the installed drain_control package (the
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
    shutil.copy2(Path(script).with_name("probe_lease.py"), dest / "probe_lease.py")  # its lease commands
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
