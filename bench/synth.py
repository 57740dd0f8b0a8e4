"""Synthesis benchmark: `make synth ENV=all` against an empty CDK app, same CLI, Python and Node.

    .venv/bin/python bench/synth.py [--repeat 3] [--env all]

Both are whole `cdk synth --quiet` processes (CLI start-up, the Python app, jsii's Node kernel, the assembly
written), run in turn (empty, ours, empty, ours, ...) so that background load falls on both alike. Prints
every run's wall and CPU seconds, the best of each and the ratio of the bests, with the load average before and
after: on a shared machine the wall ratio moves with the load (every python<->node round trip waits for a core),
the CPU ratio much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CDK = REPO / "node_modules" / ".bin" / "cdk"
# The CLI refuses an app without stacks: the empty app holds one stack with nothing in it.
EMPTY_APP = "import aws_cdk as cdk\n\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"


def empty_app(directory: Path) -> Path:
    """A project whose app is one empty stack, run by the project's Python (its cdk.json names only the app)."""
    (directory / "app.py").write_text(EMPTY_APP)
    (directory / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py"}))
    return directory


def synth_command(environment: str | None, output: Path) -> list[str]:
    """The Makefile's synth command (`**`: every stage's stacks), into `output` so cdk.out is left alone."""
    command = [str(CDK), "synth", "--quiet", "--no-notices", "-o", str(output)]
    return command + (["-c", f"env={environment}", "**"] if environment else [])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system of the CLI, the app and jsii's Node, all waited for)."""
    cpu, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{result.stderr[-4000:]}")
    return elapsed, _children_cpu() - cpu


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, taken in turn (default 3)")
    parser.add_argument("--env", default="all", help="the stages to synthesize, as `make synth ENV=...`")
    args = parser.parse_args()
    if not CDK.exists():
        sys.exit(f"{CDK} is missing: run `make setup` first")
    # The project's Node comes first on PATH, as the Makefile puts it.
    os.environ["PATH"] = f"{CDK.parent}{os.pathsep}{os.environ['PATH']}"
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as scratch:
        root = Path(scratch)
        empty_dir = empty_app(Path(tempfile.mkdtemp(dir=root)))
        runs = {"empty": [], "ours": []}
        commands = {
            "empty": (synth_command(None, root / "empty.out"), empty_dir),
            "ours": (synth_command(args.env, root / "ours.out"), REPO),
        }
        print(f"load average before: {load()}  ({len(os.sched_getaffinity(0))} cores)")
        for round_number in range(1, args.repeat + 1):
            for name, (command, cwd) in commands.items():
                runs[name].append(timed(command, cwd))
            (empty_wall, empty_cpu), (ours_wall, ours_cpu) = runs["empty"][-1], runs["ours"][-1]
            print(
                f"round {round_number}: empty {empty_wall:.2f} s wall {empty_cpu:.2f} s cpu, "
                f"ours {ours_wall:.2f} s wall {ours_cpu:.2f} s cpu",
                flush=True,
            )
        print(f"load average after:  {load()}")
    for index, measure in enumerate(("wall", "cpu")):
        best = {name: min(run[index] for run in times) for name, times in runs.items()}
        # Each round's own ratio too: the two runs of a round saw about the same load.
        rounds = zip(runs["empty"], runs["ours"], strict=True)
        paired = statistics.median(ours[index] / empty[index] for empty, ours in rounds)
        print(
            f"{measure} best of {args.repeat}: empty app {best['empty']:.2f} s, "
            f"make synth ENV={args.env} {best['ours']:.2f} s, ratio {best['ours'] / best['empty']:.2f}x "
            f"(median of the rounds' ratios {paired:.2f}x)"
        )


if __name__ == "__main__":
    main()
