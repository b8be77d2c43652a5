"""Real-time scheduling for the threads the audio depends on.

Who gets it, highest first:
  10  PortAudio's callback threads (they ask from their first callback) and the sound-server
      client threads those callbacks wait on (`promote_sound_server_threads`);
   5  the engine's asyncio loop (`talkapp.threads.loop.ENGINE_LOOP_PRIORITY`).
Every one of them sleeps between short bursts of work, so none can hog a core. The kernel grants
SCHED_FIFO to root, or under an RLIMIT_RTPRIO (limits.conf, rtkit); refused, a thread keeps its
normal priority and the app works as before, only less sure of its timing under load.
On macOS and Windows the callback threads are real-time already (Core Audio; PortAudio's WASAPI
host asks MMCSS for "Pro Audio"), and the engine's loop thread asks for what those systems offer
instead of SCHED_FIFO (`raise_engine_thread`: user-interactive QoS on macOS, MMCSS "Audio" on
Windows; see `talkapp.platform.scheduling`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from talkapp.platform import scheduling
from talkapp.platform.scheduling import ThreadPriority

AUDIO_PRIORITY = 10

# Threads a sound server's client library runs inside our process, which PortAudio's callback
# thread waits on. libpulse's threaded main loop (the ALSA `pulse` plugin, also PipeWire's
# pulse emulation) wakes the callback thread when the server asks for audio; at normal
# priority, busier higher-priority work delays it and the output runs dry (measured:
# bench/output_underflows.py). PipeWire's own client library asks rtkit itself.
SOUND_SERVER_THREAD_NAMES = frozenset({"threaded-ml"})

_TASKS = Path("/proc/self/task")


# A process started from a real-time thread (a tool's worker, `paplay` …) starts at normal
# priority: one that inherited SCHED_FIFO and then burned CPU would hold a core against the
# very threads that are meant to stop it.
_RESET_ON_FORK = getattr(os, "SCHED_RESET_ON_FORK", 0)


def ask_for_realtime(priority: int, thread_id: int = 0, *, inherited: bool = False) -> bool:
    """SCHED_FIFO at `priority` for `thread_id` (0: the calling thread), not inherited by the
    threads and processes it starts unless `inherited` (a thread that only starts PortAudio's
    callback threads, which are then real-time from their first instruction). False when
    refused."""
    try:
        policy = os.SCHED_FIFO | (0 if inherited else _RESET_ON_FORK)
        os.sched_setscheduler(thread_id, policy, os.sched_param(priority))
    except (OSError, AttributeError):  # EPERM, or the thread just ended; not Linux
        return False
    return True


def raise_engine_thread(
    linux_priority: int, platform: str | None = None, lib: Any = None
) -> ThreadPriority:
    """The calling thread's best priority on this system: SCHED_FIFO at `linux_priority` on
    Linux, user-interactive QoS on macOS, MMCSS "Audio" on Windows. `release()` it on the same
    thread before it ends."""
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return ThreadPriority(platform, ask_for_realtime(linux_priority))
    return scheduling.raise_engine_thread(platform, lib)


def is_realtime(thread_id: int) -> bool:
    try:
        policy = os.sched_getscheduler(thread_id) & ~_RESET_ON_FORK
        return policy in (os.SCHED_FIFO, os.SCHED_RR)
    except (OSError, AttributeError):
        return False


def thread_names() -> dict[int, str]:
    """This process's threads by kernel thread id (empty where there is no /proc)."""
    names = {}
    try:
        tasks = list(_TASKS.iterdir())
    except OSError:
        return {}
    for task in tasks:
        try:
            names[int(task.name)] = (task / "comm").read_text().strip()
        except OSError:  # ended meanwhile
            continue
    return names


def sound_server_threads() -> list[int]:
    return [tid for tid, name in thread_names().items() if name in SOUND_SERVER_THREAD_NAMES]


class SoundServerThreads(NamedTuple):
    found: int
    realtime: int  # of those found, how many run real-time


def promote_sound_server_threads() -> SoundServerThreads:
    """Give every sound-server client thread of this process the callbacks' priority.
    Cheap: one /proc listing."""
    granted = found = 0
    for tid in sound_server_threads():
        if is_realtime(tid) or ask_for_realtime(AUDIO_PRIORITY, tid):
            granted += 1
            found += 1
        elif (_TASKS / str(tid)).exists():  # refused, not ended meanwhile
            found += 1
    return SoundServerThreads(found, granted)
