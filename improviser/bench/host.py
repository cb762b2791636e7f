"""What the machine did to a live benchmark, interval by interval: CPU time the
hypervisor took (steal) and the JACK server's complaints (late cycles, clients that had
not finished a cycle: JACK may drop that cycle's MIDI for them).

A soak on a shared VM is judged with them: a phrase left unanswered while JACK lost the
player's note-off is the server's loss, not the engine's deafness.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

__all__ = ["LATE_CYCLE", "NOT_FINISHED", "HostWatch", "cpu_times"]

LATE_CYCLE = "JackTimedDriver::Process XRun"
"""What jackd logs for a cycle that started late."""
NOT_FINISHED = "was not finished"
"""What jackd logs, after the client's name, for a client late for a cycle."""
_OVERRUN = re.compile(rf"client = (.+?) {NOT_FINISHED}")


def cpu_times(stat: Path = Path("/proc/stat")) -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot (``(0, 0)`` where unreadable)."""
    try:
        fields = stat.read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    values = [int(v) for v in fields[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
    # already counted in user and nice
    return (values[7] if len(values) > 7 else 0), sum(values[:8])


class HostWatch:
    """Steal and JACK's complaints since the last :meth:`take` (``log``: a private
    server's log, read on from where the last take stopped; ``None``: none)."""

    def __init__(self, log: Path | None, stat: Path = Path("/proc/stat")) -> None:
        self.log = log
        self.stat = stat
        self._offset = 0
        self._cpu = cpu_times(stat)
        self.by_client: Counter[str] = Counter()
        """Client overruns of the whole run, by client name."""

    def take(self) -> dict[str, float | int]:
        """This interval's steal (% of all CPU time) and JACK complaints."""
        steal, total = cpu_times(self.stat)
        d_steal, d_total = steal - self._cpu[0], total - self._cpu[1]
        self._cpu = (steal, total)
        late, overruns = self._read_log()
        return {
            "steal_pct": round(100 * d_steal / d_total, 2) if d_total > 0 else 0.0,
            "late_cycles": late,
            "client_overruns": overruns,
        }

    def _read_log(self) -> tuple[int, int]:
        if self.log is None:
            return 0, 0
        try:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return 0, 0
        whole = chunk.rfind(b"\n") + 1  # only complete lines; the rest is read next time
        self._offset += whole
        text = chunk[:whole].decode(errors="replace")
        clients = _OVERRUN.findall(text)
        self.by_client.update(clients)
        return text.count(LATE_CYCLE), len(clients)
