"""Where a process's time and wakeups go, per thread, from /proc (Linux), for the idle bench.

`snapshot(pid)` reads every thread's name, CPU time and context switches; `busiest(before,
after, wall)` turns two snapshots into rows (name, % of a core, wakeups per second), busiest
first. A thread that sleeps and wakes costs a context switch each time: an idle app should have
few, whatever its CPU share (a wakeup also costs the CPU package a deeper sleep state).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ThreadTimes:
    name: str
    cpu: float  # seconds, user + system
    switches: int  # voluntary + involuntary context switches


def snapshot(pid: int) -> dict[int, ThreadTimes]:
    threads: dict[int, ThreadTimes] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        switches = sum(
            int(line.split()[1]) for line in status.splitlines() if "ctxt_switches" in line
        )
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        threads[int(task.name)] = ThreadTimes(name, cpu, switches)
    return threads


def busiest(
    pid: int,
    before: dict[int, ThreadTimes],
    after: dict[int, ThreadTimes],
    wall: float,
    top: int = 8,
) -> list[tuple[str, float, float]]:
    """(thread name, % of a core, wakeups/s) for the threads of `pid` alive at both ends,
    busiest first (by CPU, then wakeups); the main thread is marked."""
    rows = []
    for tid, end in after.items():
        start = before.get(tid)
        if start is None:
            continue
        cpu = 100 * (end.cpu - start.cpu) / wall
        wakeups = (end.switches - start.switches) / wall
        main = " (main)" if tid == pid else ""
        rows.append((f"{end.name} [{tid}]{main}", cpu, wakeups))
    rows.sort(key=lambda row: (row[1], row[2]), reverse=True)
    return rows[:top]
