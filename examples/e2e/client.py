"""The end-to-end demo's client (run.py): turns sent to the gateway over TCP, one
after another, each served or refused."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import Optional

from common import now


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
