"""What the parts of the bench driver (run.py) share: the poll cases, running one
program and reading its "NAME <value>" lines, the current epoch and a marker's bytes."""

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

POLL_CASES = ["absent", "active", "stale-epoch", "contentless"]


def run(cmd, env=None, cwd=None):
    out = subprocess.run(
        cmd, env=env, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    values = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return values


def epoch():
    """The current epoch, computed as the contract says (the marker of 'active')."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot_id = ""
    try:
        start = Path("/proc/1/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = ""
    return f"{boot_id}:{start}" if boot_id or start else ""


def marker_bytes(epoch_value):
    payload = {
        "action": "drain",
        "requested_at": datetime.now(timezone.utc).isoformat(),
        "principal": "bench",
        "epoch": epoch_value,
        "suppress_notification": False,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False).encode()
