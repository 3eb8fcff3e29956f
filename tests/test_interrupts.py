"""Ctrl-C and an unreachable Dask scheduler, through the real command in a subprocess.

An interrupt ends ``solve``, ``pareto`` and ``gap`` with exit status 130 and a line that says so, and keeps what
was finished: a study's recorded runs (the same command resumes), a front's corners (written, marked partial). A
Dask scheduler that does not answer is refused in seconds, before any study folder is made. Each test waits until
the command is in its work (a line it prints, a record it stores) before sending SIGINT.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import optimus_opt as oo
from optimus_opt import zoo

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "instances" / "example-64k.json")
CLI = [sys.executable, "-m", "optimus_opt.cli"]
#: The command line as it is, with the front swept by CP-SAT (as for a network with too many down-sets for the
#: DP): a sweep of SqueezeNet long enough (half a minute) to be interrupted between its first and last corner.
CLI_SWEEPING_BY_CPSAT = [sys.executable, "-c", "import sys; from optimus_opt.solvers import pareto; "
                         "pareto.MAX_TRANSITIONS = 0; from optimus_opt.cli import main; sys.exit(main())"]


class Running:
    """A command started in a subprocess, its standard output read line by line in a thread (so that a test can
    wait for a line with a timeout)."""

    def __init__(self, argv: list[str], cwd: Path = ROOT) -> None:
        # Ctrl-C's default: a shell starts background jobs (a CI runner may be one) with SIGINT ignored, which
        # their children inherit and Python then keeps, so the command would never see the interrupt
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The first line of standard output that matches ``pattern`` (fails when the output ends first)."""
        end = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            assert line is not None, f"the command ended without a line matching {pattern!r}: {self.seen}"
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def interrupt(self, timeout: float = 30) -> tuple[int, str, str]:
        """Send SIGINT (what Ctrl-C sends); the exit status, the rest of standard output and standard error."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        rest = []
        while (line := self.lines.get(timeout=timeout)) is not None:
            rest.append(line)
        return code, "".join(rest), self.proc.stderr.read()


def test_solve_interrupted_exits_130():
    # NASNet-A Mobile: auto's first heuristic alone takes several seconds; the header is printed before it starts
    run = Running(CLI + ["solve", "nasnet_a_mobile", "--time-limit", "120"])
    run.wait_for(r"^tiling ")
    time.sleep(1.0)
    code, out, err = run.interrupt()
    assert code == 130
    assert err == "optimus-opt: interrupted\n"
    assert out == ""  # no result is printed for a solve that did not end


def test_pareto_interrupted_writes_the_corners_found_marked_partial(tmp_path):
    front, plot = tmp_path / "front.json", tmp_path / "front.png"
    run = Running(CLI_SWEEPING_BY_CPSAT + ["pareto", "squeezenet1_0", "-o", str(front), "--plot", str(plot)])
    first = run.wait_for(r"^\s+[\d,]+ B ")
    code, out, err = run.interrupt()
    assert code == 130
    assert err == "optimus-opt: interrupted\n"
    corners_printed = [first] + [line for line in out.splitlines() if re.match(r"^\s+[\d,]+ B ", line)]
    n = len(corners_printed)
    assert 1 <= n < 65  # the whole front has 65 corners (test_pareto.py runs it)
    assert f"{n} corner{'s' if n > 1 else ''} in " in out
    assert "(interrupted: the front below the last corner is missing)" in out
    assert f"front written to {front} (partial: interrupted)" in out
    assert f"plot written to {plot} (partial: interrupted)" in out
    doc = json.loads(front.read_text())
    assert (doc["complete"], doc["partial"], doc["stopped"]) == (False, True, "interrupted")
    assert len(doc["points"]) == n and doc["info"]["method"] == "cpsat"
    # the first corner is exact: the plain optimum (exact-dp) at its capacity, and a byte less moves more
    assert (doc["points"][0]["buffer_bytes"], doc["points"][0]["dram_bytes"]) == (1005696, 4442000)
    net = oo.Instance(zoo.build("squeezenet1_0"), oo.Accelerator(131072, 2, 32), batch=4)
    assert oo.solve(net.with_overrides(buffer_bytes=1005696), "exact-dp").dram_bytes == 4442000
    assert oo.solve(net.with_overrides(buffer_bytes=1005695), "exact-dp").dram_bytes > 4442000
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_gap_interrupted_keeps_the_finished_runs_and_resumes(tmp_path):
    out = tmp_path / "study"
    argv = ["gap", EXAMPLE, "nasnet_a_mobile", "--solvers", "layerwise,optimus", "--jobs", "2", "--out", str(out),
            "--no-plots", "--no-progress"]
    run = Running(CLI + argv)
    results = out / "results.jsonl"
    end = time.monotonic() + 60
    # NASNet's optimus run (several seconds) starts first; the three others end while it runs
    while not (results.is_file() and len(results.read_text().splitlines()) >= 3):
        assert time.monotonic() < end and run.proc.poll() is None, "the study ended before it was interrupted"
        time.sleep(0.1)
    code, _, err = run.interrupt()
    assert code == 130
    assert err.endswith(f"optimus-opt: interrupted; every finished run is in {results} (summaries rewritten); "
                        "run the same command again to finish the rest\n")
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(records) == 3 and all(r["status"] == "feasible" for r in records)
    assert not any(r["network"] == "nasnet_a_mobile" and r["solver"] == "optimus" for r in records)
    assert json.loads((out / "manifest.json").read_text())["runs"]["interrupted"] is True
    assert (out / "summary.md").is_file()
    # the finished runs are kept: the same study without the interrupted solver has nothing left to run
    again = subprocess.run(CLI + argv[:3] + ["--solvers", "layerwise"] + argv[5:] + ["--resume"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("2 runs (0 run now, 2 recorded before)")


def _free_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_dask_scheduler_is_refused_in_seconds_and_leaves_no_folder(tmp_path):
    pytest.importorskip("distributed")
    address, out = f"tcp://127.0.0.1:{_free_port()}", tmp_path / "X"
    t0 = time.perf_counter()
    run = subprocess.run(CLI + ["gap", "smoke", "--executor", "dask", "--scheduler", address, "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - t0 < 10
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (f"optimus-opt: error: cannot reach the Dask scheduler at {address} within 5 s (Connection "
                          "refused); start it (dask scheduler) or check --scheduler\n")
    assert not out.exists()


def test_a_port_that_never_answers_is_given_up_after_the_timeout(tmp_path, monkeypatch):
    # something listens (the kernel completes the TCP handshake) but never speaks: Dask's client would wait forever
    pytest.importorskip("distributed")
    from optimus_opt.studies import executors

    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        t0 = time.perf_counter()
        with pytest.raises(oo.OptimusError) as refused:
            oo.study(EXAMPLE, solvers=["layerwise"], executor="dask", scheduler=address, out=tmp_path / "X")
        assert time.perf_counter() - t0 < 5
    assert str(refused.value) == (f"cannot reach the Dask scheduler at {address} within 1 s (no answer); start it "
                                  "(dask scheduler) or check --scheduler")
    assert not (tmp_path / "X").exists()
