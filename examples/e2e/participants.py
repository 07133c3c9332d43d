"""The participants of the end-to-end demo (run.py): a process each, whose stdout
lines are stamped as they arrive and read as the drain states it reports, one parser
per participant's line format."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from typing import Callable, Optional

from common import now

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
