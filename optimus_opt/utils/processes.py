"""Whether this process may start others by forking: what the work done beside a search (``solvers/beside.py``)
and the segment bound's windows solved at once (``solvers/segment_bound.py``) both need."""

from __future__ import annotations

import multiprocessing


def can_fork() -> bool:
    """The platform forks, and this process is not a daemon (a study's worker process), which may not start
    processes of its own."""
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
