"""HiGHS instances made the one way the project needs them: silent from construction, with a given thread count
and seed (used by ``milp`` and by the column generation's LP)."""

from __future__ import annotations

import contextlib
import os
import sys


def new_highs(workers: int, seed: int):
    """A silent HiGHS instance with ``workers`` threads and ``seed``. HiGHS keeps one thread pool per process and
    refuses to run (status "Not Set") with another thread count than the pool's, so the pool is made anew for the
    count asked (the column generation's LP and a later milp run with other ``workers`` share the process)."""
    import highspy

    highspy.Highs.resetGlobalScheduler(True)
    with silenced_stdout():  # HiGHS prints a banner on construction, before any option can be set
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("threads", max(1, workers))
    return h


@contextlib.contextmanager
def silenced_stdout():
    """Send the process's file descriptor 1 to /dev/null for the duration (C libraries write there directly)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
