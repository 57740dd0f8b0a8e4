"""``python -m training_code train | serve | process | evaluate | monitor | algorithms`` (``docker run IMAGE X``)."""

from __future__ import annotations

import json
import sys

USAGE = """usage: python -m training_code {train,serve,process,evaluate,monitor,algorithms} [options]

  train        fit the algorithm named by hyperparameter 'algorithm' (SageMaker training job)
  serve        HTTP inference server on port 8080: GET /ping, POST /invocations
  process      split/impute/scale raw data, write a statistics/schema baseline (processing job)
  evaluate     score model.tar.gz on the test split, write evaluation.json and a plot
  monitor      drift and model quality of captured endpoint traffic against the baseline (processing job)
  algorithms   list the algorithms (--json: the full registry with hyperparameters and metrics)
"""


def _algorithms(args: list[str]) -> int:
    from .catalog import ALGORITHMS, catalog

    if "--json" in args:
        print(json.dumps(catalog(), indent=2))
        return 0
    if args and args[0] not in ("--json",):
        print(f"unknown option {args[0]!r}; use --json", file=sys.stderr)
        return 2
    for name, spec in ALGORITHMS.items():
        print(f"{name:28} {spec['task']:26} {spec['objective_metric']:38} {spec['summary']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "train":
        from .train import run

        return run()
    if command == "serve":
        from .serving import run

        return run()
    if command == "process":
        from .process import main as process_main

        return process_main(rest)
    if command == "evaluate":
        from .evaluate import main as evaluate_main

        return evaluate_main(rest)
    if command == "monitor":
        from .monitor import main as monitor_main

        return monitor_main(rest)
    if command == "algorithms":
        return _algorithms(rest)
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
