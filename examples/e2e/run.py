#!/usr/bin/env python3
"""The end-to-end demonstration of drain-control (the README's main command runs it
through scripts/demo, which builds everything first).

In a temporary home it starts, each in its own process:

- the gateway: examples/gateway.py, Python, the installed wheel's async watcher; it
  serves simulated turns over TCP and refuses them while draining;
- the C sidecar (examples/c-sidecar, ``--watch``: the C watcher ABI) and the Go sidecar
  (examples/go-sidecar, ``-watch``: the Go Watcher); a build without the watch mode is
  run polling (the C one once a second, the Go one every 20 ms), and the demo says so;
- ``drainctl watch --json``, the Rust watcher, as the operator's own view;
- a client (a thread here) sending the gateway a turn every few milliseconds.

Then, as the dashboard, it drives ``drainctl`` (and, for the two markers that no current
dashboard could write, a small hand-made atomic write): begin a drain, ask to suppress
the notice, cancel; a marker left by a previous machine instantiation; a marker from two
hours ago; a drain nobody keeps alive expiring in front of everyone; and one kept alive
by a re-write past its old deadline. Every participant reports each change on its
stdout (JSON lines, or the sidecars' own line format); this script stamps each line as
it arrives and prints who saw what, how many milliseconds after the dashboard's write.

Exit status: 0 only if every participant saw every transition (and the client's turns
were served or refused as the gateway's state said), 1 otherwise, with one line per
problem; 2 on bad arguments or a participant that would not start.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Optional

MAX_AGE = 3600.0  # the contract's maximum age of a marker, in seconds
MARKER = ".drain_request.json"

# What each state means, as the timeline prints it.
MEANING = {
    "absent": "not draining",
    "active": "DRAINING",
    "suppressed": "DRAINING (quietly)",
    "epoch-stale": "ignored: from a previous boot",
    "expired": "ignored: expired",
}

C_STATES = {
    "draining (notification suppressed)": "suppressed",
    "draining": "active",
    "idle": "absent",
    "ignored (stale epoch)": "epoch-stale",
    "ignored (expired)": "expired",
}
C_LINE = re.compile(
    r"^\S+ (draining \(notification suppressed\)|draining|idle|ignored \(stale epoch\)"
    r"|ignored \(expired\)) "
)
GO_STATES = {
    "draining-quiet": "suppressed",
    "draining": "active",
    "idle": "absent",
    "ignored-stale-epoch": "epoch-stale",
    "ignored-expired": "expired",
}
GO_LINE = re.compile(r"\bstate=(\S+)")


def now() -> float:
    return time.time()


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat()


def clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%H:%M:%S.%f")[:-3]


@dataclass
class Seen:
    """One change of the drain state a participant reported."""

    t: float  # when its line arrived here (time.time())
    state: str
    keep_alive: bool = False
    detail: str = ""


@dataclass
class Participant:
    name: str
    language: str
    how: str
    argv: list[str]
    parse: Callable[[Participant, str], Optional[Seen]]
    proc: Optional[subprocess.Popen[bytes]] = None
    seen: list[Seen] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    other: list[tuple[float, dict[str, object]]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def start(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            arrived = now()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                seen = self.parse(self, line)
                if seen is not None:
                    seen.t = arrived
                    last = self.seen[-1].state if self.seen else None
                    # A polling participant repeats itself: only transitions count.
                    if seen.state != last or seen.keep_alive:
                        self.seen.append(seen)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in iter(self.proc.stderr.readline, b""):
            with self.cond:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def state(self) -> Optional[str]:
        with self.cond:
            return self.seen[-1].state if self.seen else None

    def since(self, t0: float) -> list[Seen]:
        with self.cond:
            return [s for s in self.seen if s.t >= t0]

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def parse_gateway(p: Participant, line: str) -> Optional[Seen]:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if event.get("event") == "change":
        detail = ""
        if event.get("expires_at") and event["state"] in ("active", "suppressed"):
            detail = f"expires at {event['expires_at'][11:19]} UTC"
        return Seen(0.0, event["state"], bool(event.get("keep_alive")), detail)
    p.other.append((now(), event))
    return None


def parse_c(_p: Participant, line: str) -> Optional[Seen]:
    match = C_LINE.match(line)
    if not match:
        return None
    return Seen(0.0, C_STATES[match.group(1)])


def parse_go(_p: Participant, line: str) -> Optional[Seen]:
    match = GO_LINE.search(line)
    if not match or match.group(1) not in GO_STATES:
        return None
    return Seen(0.0, GO_STATES[match.group(1)])


def parse_drainctl(_p: Participant, line: str) -> Optional[Seen]:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if "state" not in event:
        return None
    return Seen(0.0, event["state"])


@dataclass
class Turn:
    id: int
    sent: float
    answered: float
    outcome: str  # "served", "refused" or "error"


class Client:
    """Sends the gateway one turn after another, as its users would."""

    def __init__(self, port: int, pause: float) -> None:
        self.port = port
        self.pause = pause
        self.turns: list[Turn] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.error: Optional[str] = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                replies = sock.makefile("rb")
                n = 0
                while not self.done.is_set():
                    n += 1
                    sent = now()
                    sock.sendall(f"turn {n}\n".encode())
                    words = replies.readline().decode().split()
                    outcome = words[0] if words and words[0] in ("served", "refused") else "error"
                    with self.lock:
                        self.turns.append(Turn(n, sent, now(), outcome))
                    self.done.wait(self.pause)
        except OSError as error:
            self.error = f"client: {error}"

    def stop(self) -> None:
        self.done.set()
        self.thread.join(5)

    def since(self, t0: float) -> list[Turn]:
        with self.lock:
            return [t for t in self.turns if t.sent >= t0]


@dataclass
class Step:
    title: str
    t0: float
    expected: Optional[str]  # None: no change expected
    action: str = ""
    latencies: dict[str, Optional[float]] = field(default_factory=dict)


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.failures: list[str] = []
        self.steps: list[Step] = []
        self.participants: list[Participant] = []
        self.client: Optional[Client] = None
        self.started = time.monotonic()
        self.tmp = tempfile.mkdtemp(prefix="drain-demo-")
        self.home = os.path.join(self.tmp, "hermes-home")
        self.margin = 1.5 if args.quick else 3.0
        self.patience = args.patience
        self.epoch = ""
        self.launched = 0.0
        self.draining = True  # so that the first step shows the first turn served
        self.env = dict(os.environ)
        self.env.pop("HERMES_HOME", None)

    # --- output -------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def fail(self, text: str) -> None:
        self.failures.append(text)
        self.say(f"         !! {text}")

    # --- the dashboard ------------------------------------------------------------

    def drainctl(self, *args: str) -> tuple[float, float, str]:
        """Runs drainctl on the demo's home: (start time, duration in ms, output)."""
        argv = [self.args.drainctl, "--home", self.home, *args]
        t0 = now()
        started = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, env=self.env)
        took = (time.perf_counter() - started) * 1000
        if result.returncode not in (0, 1):
            self.fail(f"'drainctl {' '.join(args)}' exited {result.returncode}: {result.stderr.strip()}")
        return t0, took, result.stdout.strip()

    def plant(self, *, epoch: str, requested_at: float, principal: str) -> float:
        """Writes a marker no current dashboard would write, atomically (temp file,
        fsync, rename, as every writer does). Returns the time of the write."""
        body = {
            "action": "drain",
            "requested_at": iso(requested_at),
            "principal": principal,
            "epoch": epoch,
            "suppress_notification": False,
        }
        data = json.dumps(body, indent=2, ensure_ascii=False).encode()
        tmp = os.path.join(self.home, f"..drain_request_{secrets.token_hex(6)}.tmp")
        t0 = now()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(self.home, MARKER))
        return t0

    # --- participants -------------------------------------------------------------

    def supports(self, argv: list[str], flag: str) -> bool:
        result = subprocess.run(argv, capture_output=True, text=True, env=self.env)
        return flag in result.stdout + result.stderr

    def make_participants(self) -> None:
        a = self.args
        home = self.home
        sabotaged = os.path.join(self.tmp, "elsewhere")

        def home_of(name: str) -> str:
            return sabotaged if a.sabotage == name else home

        gateway = Participant(
            "gateway", "Python", "examples/gateway.py: async watcher, refuses turns while draining",
            [a.python, a.gateway, "--home", home_of("gateway"), "--turn-ms", "5"],
            parse_gateway,
        )
        if self.supports([a.c_sidecar, "--help"], "--watch"):
            c_argv, c_how = [a.c_sidecar, "--watch", home_of("c-sidecar")], "sidecar --watch: the C watcher (drain_watcher_*)"
        else:
            c_argv, c_how = [a.c_sidecar, home_of("c-sidecar")], "sidecar: POLLS once a second (this build has no --watch)"
        if self.supports([a.go_sidecar, "-h"], "-watch"):
            go_argv, go_how = [a.go_sidecar, "-watch", home_of("go-sidecar")], "go-sidecar -watch: the Go Watcher"
        else:
            go_argv, go_how = [a.go_sidecar, "-interval", "20ms", home_of("go-sidecar")], "go-sidecar: POLLS every 20 ms (this build has no -watch)"
        self.participants = [
            gateway,
            Participant("c-sidecar", "C", c_how, c_argv, parse_c),
            Participant("go-sidecar", "Go", go_how, go_argv, parse_go),
            Participant(
                "drainctl-watch", "Rust", "drainctl watch --json: the Rust watcher",
                [a.drainctl, "--home", home_of("drainctl-watch"), "--json", "watch"],
                parse_drainctl,
            ),
        ]

    def start(self) -> bool:
        os.makedirs(self.home)
        epoch = subprocess.run([self.args.drainctl, "--json", "epoch"], capture_output=True,
                               text=True, env=self.env, check=True)  # epoch takes no --home
        self.epoch = json.loads(epoch.stdout)["epoch"]
        self.make_participants()
        self.say(f"home     {self.home}")
        self.say(f"epoch    {self.epoch or '(none: the epoch check is off on this machine)'}")
        self.say("")
        self.launched = now()
        for p in self.participants:
            p.start(self.env)
            self.say(f"  {p.name:<15} {p.language:<7} {p.how}")
        self.say(f"  {'dashboard':<15} {'Rust':<7} drainctl begin / cancel (and a hand-made marker twice)")
        self.say(f"  {'client':<15} {'Python':<7} a turn every few ms to the gateway, over TCP")
        self.say("")
        self.say("Times are milliseconds after the dashboard's command started (or after the marker's")
        self.say("deadline), as each participant's report reached this script.")
        deadline = time.monotonic() + self.patience * 3  # the gateway imports Python first
        for p in self.participants:
            with p.cond:
                while not p.seen and p.alive() and time.monotonic() < deadline:
                    p.cond.wait(0.05)
            if not p.seen:
                why = "exited" if not p.alive() else "said nothing"
                self.say(f"error: {p.name} {why} before reporting its first state")
                for line in p.stderr[-5:]:
                    self.say(f"  {p.name}: {line}")
                return False
        port = next(
            (e["port"] for _, e in self.participants[0].other if e.get("event") == "listening"), None
        )
        if not isinstance(port, int):
            self.say("error: the gateway did not say which port it listens on")
            return False
        self.client = Client(port, 0.004)
        self.client.start()
        return True

    # --- the steps ----------------------------------------------------------------

    def pause(self) -> None:
        """A moment between two steps, for the client's turns to show the new state."""
        time.sleep(self.args.pace)

    def step(self, title: str, action: str, t0: float, expected: Optional[str], note: str = "") -> Step:
        """Waits until every participant reports `expected` after t0, and prints who saw
        it when. `expected=None`: nobody may report a change (a keep-alive)."""
        step = Step(title, t0, expected, action)
        self.steps.append(step)
        number = len(self.steps)
        self.say("")
        self.say(f"[{number}] {title}")
        if action:
            self.say(f"      {action}" + (f"   ({note})" if note else ""))
        if expected is None:
            return step
        deadline = time.monotonic() + self.patience
        for p in self.participants:
            with p.cond:
                while time.monotonic() < deadline:
                    if p.seen and p.seen[-1].state == expected and p.seen[-1].t >= t0:
                        break
                    p.cond.wait(0.01)
        events: list[tuple[float, str, str]] = []
        for p in self.participants:
            hits = [s for s in p.since(t0) if s.state == expected]
            if hits and p.state() == expected:
                step.latencies[p.name] = (hits[0].t - t0) * 1000
                extra = f"  ({hits[0].detail})" if hits[0].detail else ""
                events.append((hits[0].t, p.name, MEANING[expected] + extra))
            else:
                step.latencies[p.name] = None
                later = p.since(t0)
                if later:
                    last = f"its last report was '{later[-1].state}'"
                elif p.state() == expected and p.seen:
                    early = (t0 - p.seen[-1].t) * 1000
                    last = f"it reported it {early:.1f} ms too early, before the step"
                else:
                    last = f"it reported nothing since (still '{p.state()}')"
                self.fail(
                    f"{p.name} did not report '{expected}' within {self.patience:g} s of step "
                    f"{number} ({title}); {last}"
                )
            for other in p.since(t0):
                if other.state != expected:
                    events.append((other.t, p.name, f"(in passing) {MEANING[other.state]}"))
        draining = expected in ("active", "suppressed")
        if draining != self.draining:  # the client notices only a change of this
            events.extend(self.turn_events(t0, expected))
        self.draining = draining
        events.extend(self.notices(t0))
        for t, who, what in sorted(events):
            self.say(f"      {self.ms(t - t0):>10}  {who:<15} {what}")
        self.pause()
        return step

    def ms(self, seconds: float) -> str:
        return f"{seconds * 1000:+.1f} ms"

    def turn_events(self, t0: float, expected: str) -> list[tuple[float, str, str]]:
        """The client's first turn answered under the new state."""
        if self.client is None:
            return []
        want = "refused" if expected in ("active", "suppressed") else "served"
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            hits = [t for t in self.client.since(t0) if t.outcome == want]
            if hits:
                turn = hits[0]
                return [(turn.answered, "client", f"turn {turn.id} {want}")]
            time.sleep(0.005)
        return [(t0, "client", f"(no turn {want} within 1 s)")]

    def notices(self, t0: float) -> list[tuple[float, str, str]]:
        """What the gateway told its users, and what it logged (the library's warnings)."""
        gateway = self.participants[0]
        with gateway.cond:
            said = {"notice": "notice: ", "log": "logged: "}
            return [
                (t, "gateway", said[str(e["event"])] + str(e["text"]).replace(self.home + "/", ""))
                for t, e in gateway.other
                if t >= t0 and e.get("event") in said
            ]

    def quiet_since(self, t0: float) -> bool:
        """Nobody but the every-change gateway reported anything since t0."""
        quiet = True
        for p in self.participants:
            for s in p.since(t0):
                if not (p.name == "gateway" and s.keep_alive):
                    self.fail(f"{p.name} reported '{s.state}' after the keep-alive; expected no change")
                    quiet = False
        return quiet

    def run(self) -> None:
        self.step("start: each participant reports the state it finds", "", self.launched, "absent")

        t0, took, _ = self.drainctl("begin", "--principal", "ops-dashboard")
        self.step("the dashboard begins a drain", "$ drainctl begin --principal ops-dashboard",
                  t0, "active", f"the command took {took:.1f} ms")

        t0, took, _ = self.drainctl("begin", "--principal", "ops-dashboard", "--suppress-notification")
        self.step("the dashboard asks the gateway to skip its broadcast",
                  "$ drainctl begin --principal ops-dashboard --suppress-notification",
                  t0, "suppressed", f"the command took {took:.1f} ms")

        t0, took, _ = self.drainctl("cancel")
        self.step("the dashboard cancels the drain", "$ drainctl cancel", t0, "absent",
                  f"the command took {took:.1f} ms")

        if self.epoch:
            before = f"{uuid.uuid4()}:{secrets.randbelow(90000) + 10000}"
            t0 = self.plant(epoch=before, requested_at=now() - 120, principal="before-the-restart")
            self.step("a marker left by a previous machine instantiation (it survived a restart "
                      "on a durable volume)",
                      f"(written by hand: epoch {before!r}, 2 min ago)", t0, "epoch-stale")
        else:
            self.say("\n(no epoch on this machine: the previous-instantiation case cannot occur)")

        t0 = self.plant(epoch=self.epoch, requested_at=now() - 2 * 3600, principal="forgotten")
        self.step("a marker written two hours ago, never cancelled",
                  "(written by hand: this epoch, requested_at 2 h ago)", t0, "expired")

        t0, took, _ = self.drainctl("cancel")
        self.step("the dashboard cleans up", "$ drainctl cancel", t0, "absent",
                  f"the command took {took:.1f} ms")

        # A drain nobody keeps alive: it expires in front of everyone, with no file event.
        requested = now() - MAX_AGE + self.margin
        t0 = self.plant(epoch=self.epoch, requested_at=requested, principal="ops-dashboard")
        self.step(f"a drain begun 59 min {60 - self.margin:.1f} s ago that nobody keeps alive",
                  f"(written by hand: requested_at {iso(requested)[11:23]}, expires in "
                  f"{self.margin:.1f} s)", t0, "active")
        expiry = requested + MAX_AGE
        self.step("... its hour is up: it expires without any file event (the watchers' own "
                  "wake-up)", f"(deadline {clock(expiry)}; times below are after the deadline)",
                  expiry, "expired")

        # The same, kept alive by the dashboard's re-write before the deadline.
        requested = now() - MAX_AGE + self.margin
        t0 = self.plant(epoch=self.epoch, requested_at=requested, principal="ops-dashboard")
        self.step("another old drain, expiring in a moment", f"(written by hand: expires in "
                  f"{self.margin:.1f} s)", t0, "active")
        time.sleep(self.margin / 3)
        t0, took, _ = self.drainctl("begin", "--principal", "ops-dashboard")
        keep = self.step("the dashboard re-writes the marker (the keep-alive)",
                         "$ drainctl begin --principal ops-dashboard", t0, None,
                         f"the command took {took:.1f} ms")
        old_deadline = requested + MAX_AGE
        if t0 + took / 1000 >= old_deadline:
            self.fail("this machine was too slow: the keep-alive came after the old deadline")
        time.sleep(max(0.0, old_deadline + 1.0 - now()))
        gateway = self.participants[0]
        keep_alives = [s for s in gateway.since(keep.t0) if s.keep_alive]
        if keep_alives:
            k = keep_alives[0]
            self.say(f"      {self.ms(k.t - keep.t0):>10}  {'gateway':<15} keep-alive seen "
                     f"({k.detail}); the others report nothing: nothing changed for them")
            keep.latencies["gateway"] = (k.t - keep.t0) * 1000
        else:
            self.fail("the gateway (every_change=True) did not report the keep-alive re-write")
            keep.latencies["gateway"] = None
        quiet = self.quiet_since(keep.t0)
        states = {p.name: p.state() for p in self.participants}
        alive = all(state == "active" for state in states.values())
        _, _, status = self.drainctl("--json", "status")
        expires = json.loads(status).get("expires_at") or "?"
        self.say(f"      at the old deadline + 1 s ({clock(old_deadline + 1)}): "
                 + ", ".join(f"{n} {MEANING[s] if s else s}" for n, s in states.items()))
        self.say(f"      drainctl status: draining, now expires at {expires[11:19]} UTC")
        if not (alive and quiet):
            self.fail("the re-write did not keep the drain alive for every participant")
        for p in self.participants:
            keep.latencies.setdefault(p.name, 0.0 if alive and quiet else None)

        t0, took, _ = self.drainctl("cancel")
        self.step("the dashboard cancels the drain", "$ drainctl cancel", t0, "absent",
                  f"the command took {took:.1f} ms")

    # --- the end ------------------------------------------------------------------

    def check_turns(self) -> tuple[int, int, int]:
        """Each turn sent after the gateway reported a state, and answered before the
        next action, was served or refused as that state says."""
        if self.client is None:
            return 0, 0, 0
        gateway = self.participants[0]
        changes = [s for s in gateway.seen if not s.keep_alive]
        actions = sorted(s.t0 for s in self.steps if s.t0 > 0)
        wrong = []
        for turn in self.client.turns:
            before = [s for s in changes if s.t <= turn.sent]
            if not before:
                continue
            current = before[-1]
            if any(current.t < a <= turn.answered for a in actions):
                continue  # the state may have changed while the turn was on its way
            want = "refused" if current.state in ("active", "suppressed") else "served"
            if turn.outcome != want:
                wrong.append(f"turn {turn.id}: {turn.outcome}, expected {want} ({current.state})")
        for line in wrong[:5]:
            self.fail(line)
        served = sum(t.outcome == "served" for t in self.client.turns)
        refused = sum(t.outcome == "refused" for t in self.client.turns)
        if not served or not refused:
            self.fail(f"the client had {served} turns served and {refused} refused; expected both")
        return len(self.client.turns), served, refused

    def stop(self) -> None:
        if self.client is not None:
            self.client.stop()
            if self.client.error:
                self.fail(self.client.error)
        for p in self.participants:
            if p.alive():
                assert p.proc is not None
                p.proc.send_signal(signal.SIGTERM)
        for p in self.participants:
            if p.proc is None:
                continue
            try:
                code = p.proc.wait(5)
            except subprocess.TimeoutExpired:
                p.proc.kill()
                p.proc.wait()
                self.fail(f"{p.name} did not stop within 5 s of SIGTERM")
                continue
            if code != 0:
                tail = "; ".join(p.stderr[-3:])
                self.fail(f"{p.name} exited {code} (stderr: {tail})")

    def summary(self) -> None:
        names = [p.name for p in self.participants]
        self.say("")
        self.say("Milliseconds from the dashboard's write (or the deadline) to each participant's report:")
        self.say(f"  {'step':<46}" + "".join(f"{n:>16}" for n in names))
        for number, step in enumerate(self.steps, 1):
            if number == 1:
                continue
            cells = []
            for n in names:
                value = step.latencies.get(n)
                if step.expected is None and n != "gateway":
                    cells.append("no change" if value is not None else "CHANGED")
                else:
                    cells.append("MISSED" if value is None else f"{value:.1f}")
            label = f"{number} {step.title}"
            label = label if len(label) <= 45 else label[:44] + "…"
            self.say(f"  {label:<46}" + "".join(f"{c:>16}" for c in cells))

    def cleanup(self) -> None:
        if self.args.keep_home:
            self.say(f"(home kept: {self.home})")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="The drain-control end-to-end demo.")
    parser.add_argument("--drainctl", required=True)
    parser.add_argument("--c-sidecar", required=True)
    parser.add_argument("--go-sidecar", required=True)
    parser.add_argument("--python", default=sys.executable, help="the gateway's interpreter (with the wheel)")
    parser.add_argument("--gateway", default=os.path.join(os.path.dirname(__file__), "..", "gateway.py"))
    parser.add_argument("--quick", action="store_true", help="shorter expiry waits (for CI)")
    parser.add_argument("--patience", type=float, default=5.0, help="seconds to wait for each report")
    parser.add_argument("--pace", type=float, default=None,
                        help="seconds between two steps (default 0.3, with --quick 0.1)")
    parser.add_argument("--keep-home", action="store_true")
    parser.add_argument("--sabotage", metavar="NAME", help="self-test: run participant NAME on "
                        "another home, so that it misses everything and the demo must fail")
    args = parser.parse_args()
    if args.pace is None:
        args.pace = 0.1 if args.quick else 0.3

    demo = Demo(args)
    print("drain-control end-to-end demo: a dashboard, a gateway and three watchers, "
          "each in its own process", flush=True)
    try:
        if not demo.start():
            demo.stop()
            return 2
        demo.run()
        total, served, refused = demo.check_turns()
    finally:
        demo.stop()
        demo.cleanup()
    demo.summary()
    elapsed = time.monotonic() - demo.started
    if elapsed > 60:
        demo.failures.append(f"the demo took {elapsed:.0f} s, over its budget of a minute")
    print(f"\nclient: {total} turns, {served} served, {refused} refused while draining")
    transitions = sum(1 for s in demo.steps[1:])
    if demo.failures:
        print(f"\nFAILED in {elapsed:.1f} s: {len(demo.failures)} problem(s):")
        for failure in demo.failures:
            print(f"  - {failure}")
        return 1
    print(f"\nOK in {elapsed:.1f} s: all {len(demo.participants)} participants saw all "
          f"{transitions} steps; every turn was served or refused as the gateway's state said.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
