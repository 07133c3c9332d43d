"""A small gateway that honours drain requests, for the end-to-end demo (scripts/demo).

It serves simulated turns over TCP and refuses new ones while a drain is requested. It
learns of a drain through ``drain_control.watch`` used with ``async for``, in the same
event loop that serves the turns: the loop never blocks on the watcher, and the
gateway reacts to the dashboard's write within milliseconds instead of at its next poll.

Protocol (one line each way): the client sends ``turn <id> [ms]``; the gateway answers
``served <id>`` after a simulated piece of work (``--turn-ms``, or ``ms``), or
``refused <id> draining`` at once while draining. A turn already in progress when the
drain begins is finished, not cut off.

Like the host's gateway, it keeps ``$HERMES_HOME/gateway_state.json`` up to date,
rewritten atomically at each change: ``gateway_state`` (``running``, ``draining``,
``stopped``), ``active_agents`` and ``active_work`` (the turns in flight), its ``pid``
and ``start_time`` (field 22 of ``/proc/<pid>/stat``), ``kind``, ``updated_at`` and
``platforms``. ``drainctl run --wait-idle`` reads it to wait for the turns in flight.

Everything the gateway does is reported as one JSON object per line on stdout (for the
demo's orchestrator, examples/e2e/run.py): ``listening``, ``change`` (each change of
the drain state, keep-alive re-writes included), ``notice`` (what it would broadcast to
its users), ``log`` (the library's warnings), ``turn`` and ``stopped``. SIGINT or SIGTERM stops it cleanly (exit 0).

    python examples/gateway.py [--home DIR] [--port N] [--turn-ms N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Optional

import drain_control


def report(event: str, **fields: Any) -> None:
    print(json.dumps({"who": "gateway", "event": event, "t": time.time(), **fields}), flush=True)


class ReportHandler(logging.Handler):
    """Log records as ``log`` events on stdout."""

    def emit(self, record: logging.LogRecord) -> None:
        report("log", level=record.levelname, logger=record.name, text=record.getMessage())


class Gateway:
    def __init__(self, home: Optional[str], turn_seconds: float) -> None:
        self.home = home
        self.turn_seconds = turn_seconds
        self.draining = False
        self.state = "unknown"
        self.served = 0
        self.refused = 0
        self.clients: set[asyncio.StreamWriter] = set()
        # The turns in flight, in the order they began.
        self.in_flight: dict[str, None] = {}
        # every_change: the gateway also hears of keep-alive re-writes (and can say
        # when the drain now expires); a plain consumer leaves it off.
        self.watcher = drain_control.watch(home=home, every_change=True)
        self.record = Path(self.watcher.home) / "gateway_state.json"
        with open("/proc/self/stat") as stat:
            self.start_time = int(stat.read().rsplit(")", 1)[1].split()[19])

    def publish(self, stopped: bool = False) -> None:
        """Rewrites gateway_state.json atomically, as the host's gateway does."""
        state = "stopped" if stopped else "draining" if self.draining else "running"
        record = {
            "kind": "hermes-gateway",
            "gateway_state": state,
            "active_agents": len(self.in_flight),
            "active_work": [f"turn:{turn}" for turn in self.in_flight],
            "pid": os.getpid(),
            "start_time": self.start_time,
            "updated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "platforms": {"demo": {"state": "connected"}},
        }
        self.record.parent.mkdir(parents=True, exist_ok=True)
        temp = self.record.with_name(f".{self.record.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps(record))
        os.replace(temp, self.record)
        report("record", gateway_state=state, active_work=record["active_work"])

    async def watch(self) -> None:
        """Follows the drain state until the watcher is closed."""
        async for change in self.watcher:
            was_draining, previous = self.draining, self.state
            # The state changes before anything is reported: a turn that arrives after
            # the report below is judged under the new state.
            self.draining, self.state = change.draining, change.state
            if self.draining != was_draining or change.initial:
                self.publish()
            body = change.body or {}
            report(
                "change",
                state=change.state,
                initial=change.initial,
                keep_alive=change.state == previous and not change.initial,
                principal=body.get("principal"),
                requested_at=body.get("requested_at"),
                expires_at=change.expires_at.isoformat() if change.expires_at else None,
                at=change.at.timestamp(),
            )
            if self.draining and not was_draining:
                if change.suppressed:
                    report("notice", text="draining quietly: no broadcast (suppressed)")
                else:
                    report("notice", text="broadcast: this gateway is draining; finish your turn")
            elif was_draining and not self.draining:
                report("notice", text=f"serving again ({change.state})")

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                words = line.decode("utf-8", "replace").split()
                malformed = len(words) == 3 and not words[2].isdigit()
                if len(words) not in (2, 3) or words[0] != "turn" or malformed:
                    writer.write(b"error expected: turn <id> [ms]\n")
                    await writer.drain()
                    continue
                turn = words[1]
                work = int(words[2]) / 1000.0 if len(words) == 3 else self.turn_seconds
                if self.draining:
                    self.refused += 1
                    report("turn", id=turn, outcome="refused", state=self.state)
                    writer.write(f"refused {turn} draining\n".encode())
                else:
                    self.in_flight[turn] = None
                    self.publish()
                    try:
                        await asyncio.sleep(work)  # the simulated work
                    finally:
                        del self.in_flight[turn]
                        self.publish()
                    self.served += 1
                    report("turn", id=turn, outcome="served", state=self.state)
                    writer.write(f"served {turn}\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.clients.discard(writer)
            writer.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="the home folder (default: $HERMES_HOME, else ~/.hermes)")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--turn-ms", type=float, default=20.0, help="simulated work per turn")
    args = parser.parse_args()
    # The library's warnings (an expired or unreadable marker, once each) go into the
    # report stream too, in order with the changes they come with.
    logging.basicConfig(handlers=[ReportHandler()], level=logging.WARNING)

    gateway = Gateway(args.home, args.turn_ms / 1000.0)
    server = await asyncio.start_server(gateway.serve_client, "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    report(
        "listening",
        port=port,
        home=gateway.watcher.home,
        python=sys.version.split()[0],
        drain_control=drain_control.__version__,
        epoch=drain_control.current_instantiation_epoch(),
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, gateway.watcher.close)  # ends the async for
    await gateway.watch()
    gateway.publish(stopped=True)
    server.close()
    for client in list(gateway.clients):
        client.close()
    report("stopped", served=gateway.served, refused=gateway.refused)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
