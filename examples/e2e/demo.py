"""The end-to-end demo's machinery (run.py): its home, the dashboard's commands, the
participants started and watched, each step's timeline, and the end: turns checked,
processes stopped, the summary. The steps themselves are in scenario.py."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

from client import Client
from common import MARKER, MEANING, iso, now
from participants import (
    Participant,
    parse_c,
    parse_drainctl,
    parse_gateway,
    parse_go,
)


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
        # Moments the drain state changes that no step starts: a release at the end of
        # `drainctl run` (check_turns counts them as actions).
        self.marks: list[float] = []
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


    # --- the end ------------------------------------------------------------------

    def check_turns(self) -> tuple[int, int, int]:
        """Each turn sent after the gateway reported a state, and answered before the
        next action, was served or refused as that state says."""
        if self.client is None:
            return 0, 0, 0
        gateway = self.participants[0]
        changes = [s for s in gateway.seen if not s.keep_alive]
        actions = sorted([s.t0 for s in self.steps if s.t0 > 0] + self.marks)
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
