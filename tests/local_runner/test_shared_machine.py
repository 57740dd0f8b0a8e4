"""Local jobs share this machine's cores, as jobs on their own instances on AWS do not: an OpenMP thread that
waits must sleep, not spin on a core another job needs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from local_runner.sagemaker import job_forks, jobs

# What the OpenMP runtime read when it loaded: the environment the process was exec'd with. A forked job
# shows the fork server's, where xgboost's OpenMP loaded before any job was forked.
PROBE = "print('loaded with', [e for e in open('/proc/self/environ').read().split(chr(0)) if 'OMP_WAIT' in e])"


@pytest.mark.parametrize("fork", ["1", "0"], ids=["forked", "exec"])
def test_a_jobs_openmp_threads_wait_passively(tmp_path: Path, monkeypatch, fork: str):
    monkeypatch.setenv("LOCAL_SAGEMAKER_FORK", fork)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)  # the suite sets it for its own processes
    monkeypatch.setattr(job_forks, "_server", None)  # a fork server started with this environment
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "opt_ml").mkdir()
    log = tmp_path / "job.log"
    outcome = jobs.run(
        [sys.executable, "probe.py"], tmp_path / "opt_ml", tmp_path, {}, log, jobs.Process(), max_runtime=60
    )
    if job_forks._server is not None:
        job_forks._server.control.close()  # it exits at EOF
    assert outcome.returncode == 0, log.read_text()
    assert "loaded with ['OMP_WAIT_POLICY=PASSIVE']" in log.read_text()
