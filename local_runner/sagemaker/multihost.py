"""A job on InstanceCount hosts: one container process per host, each in its own /opt/ml tree (hosts.tree).

As on SageMaker, the job fails as soon as one host fails, with that host's reason, and the other hosts are
stopped: SIGTERM, then SIGKILL after `GRACE_SECONDS` (a host blocked in a collective whose peer died does not
get to its own SIGTERM check). Each host runs on its own thread that waits for it (jobs.run), so every host
dies with the runner (lifetime.die_with_runner).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import hosts, jobs

GRACE_SECONDS = 10.0
_POLL = 0.05

StatusCallback = Callable[[dict[str, str]], None]


def _end(member: jobs.Process, grace: float) -> None:
    member.stop()

    def kill() -> None:
        popen = member.popen
        if popen is not None and popen.poll() is None:
            popen.kill()

    timer = threading.Timer(grace, kill)
    timer.daemon = True
    timer.start()


def _reason(outcome: jobs.Outcome, host: str, count: int) -> str:
    suffix = f" (on host {host} of {count})"
    return jobs.failure_reason(outcome)[: jobs.FAILURE_REASON_LIMIT - len(suffix)] + suffix


def run(
    cmd: list[str],
    base: Path,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    process: jobs.Process,
    max_runtime: float | None = None,
    count: int = 1,
    on_status: StatusCallback | None = None,
    grace: float = GRACE_SECONDS,
) -> jobs.Outcome:
    """Run `cmd` on `count` hosts; one Outcome for the job (the first host's log, which carries the metrics)."""
    if count <= 1:
        return jobs.run(cmd, base, cwd, env, log_path, process, max_runtime)
    names = hosts.names(count)
    env = {**env, hosts.ADDRESSES_ENV: json.dumps(hosts.loopback_addresses(names))}
    members = [jobs.Process() for _ in names]
    process.members = members
    outcomes: list[jobs.Outcome | None] = [None] * count
    status = dict.fromkeys(names, "Starting")
    lock = threading.Lock()

    def report(host: str, value: str) -> None:
        with lock:
            status[host] = value
            snapshot = dict(status)
        if on_status is not None:
            on_status(snapshot)

    def host(index: int) -> None:
        name = names[index]
        tree = hosts.tree(base, index)
        report(name, "Running")
        outcome = jobs.run(
            cmd, tree, cwd, env, log_path if index == 0 else tree / "job.log", members[index], max_runtime
        )
        outcomes[index] = outcome
        if outcome.stopped:
            report(name, "Stopped")
        else:
            report(name, "Completed" if outcome.returncode == 0 else f"Failed (exit {outcome.returncode})")

    threads = [threading.Thread(target=host, args=(i,), name=f"host-{n}", daemon=True) for i, n in enumerate(names)]
    if process.stop_requested.is_set():
        for member in members:
            member.stop()
    for thread in threads:
        thread.start()
    failed: int | None = None
    ended = False
    while any(thread.is_alive() for thread in threads):
        if not ended:
            if failed is None:
                failed = next(
                    (i for i, o in enumerate(outcomes) if o is not None and o.returncode != 0 and not o.stopped),
                    None,
                )
            if failed is not None or process.stop_requested.is_set():
                ended = True
                for index, member in enumerate(members):
                    if outcomes[index] is None:
                        _end(member, grace)
        time.sleep(_POLL)
    for thread in threads:
        thread.join()
    if failed is None:  # a host that failed in the last poll interval
        failed = next((i for i, o in enumerate(outcomes) if o.returncode != 0 and not o.stopped), None)
    first = outcomes[0]
    elapsed = max(o.elapsed for o in outcomes)
    if process.stop_requested.is_set() and failed is None:
        return jobs.Outcome(first.returncode, first.log, None, stopped=True, elapsed=elapsed)
    if failed is not None:
        culprit = outcomes[failed]
        return jobs.Outcome(
            culprit.returncode,
            culprit.log,
            _reason(culprit, names[failed], count),
            timed_out=culprit.timed_out,
            elapsed=elapsed,
        )
    return jobs.Outcome(0, first.log, None, timed_out=any(o.timed_out for o in outcomes), elapsed=elapsed)
