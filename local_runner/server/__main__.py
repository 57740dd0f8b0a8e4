"""`python -m local_runner.server up|down|status|serve`: the local cloud serving the AWS APIs on 127.0.0.1."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..pipeline import REPO_ROOT, SynthError
from ..template import TemplateError
from . import control

PORT_VARIABLE = "LOCAL_CLOUD_PORT"
DEFAULT_PORT = 4566  # LocalStack's and moto's customary port: clients' examples already use it


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _envs(text: str) -> list[str]:
    envs = [e.strip() for e in text.split(",") if e.strip()]
    missing = [e for e in envs if not (REPO_ROOT / "config" / f"{e}.json").is_file()]
    if not envs or missing:
        known = sorted(p.stem for p in (REPO_ROOT / "config").glob("*.json"))
        raise argparse.ArgumentTypeError(
            f"no configuration config/{(missing or [''])[0]}.json; known: {', '.join(known)}"
        )
    return envs


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m local_runner.server", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    default_port = os.environ.get(PORT_VARIABLE) or str(DEFAULT_PORT)
    for name, text in (
        ("up", "start the local cloud in the background and wait until it answers"),
        ("serve", "run the local cloud in the foreground (what up starts)"),
    ):
        cmd = commands.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "--port",
            type=_port,
            default=_port(default_port),
            help=f"port on 127.0.0.1 (default {DEFAULT_PORT}, or ${PORT_VARIABLE})",
        )
        cmd.add_argument(
            "--env",
            type=_envs,
            default=["dev"],
            help="the stages to deploy, comma-separated (config/ENV.json), default dev",
        )
        cmd.add_argument("--cdk-out", type=Path, help="use this synthesized cloud assembly (e.g. cdk.out) as it is")
        cmd.add_argument("--code-dir", type=Path, default=REPO_ROOT, help="where training_code/ is (the repository)")
        cmd.add_argument("--time-scale", type=float, default=0.02, help="Wait/Retry time factor (1 = real time)")
    for name, text in (("down", "stop the local cloud; its state stays"), ("status", "is it up, and where")):
        commands.add_parser(name, help=text, description=text)
    for cmd in commands.choices.values():
        cmd.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local", help="the state (.local/)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    state_dir = args.state_dir.resolve()
    if args.command == "down":
        return control.down(state_dir)
    if args.command == "status":
        return control.status(state_dir)
    serve_args = [
        "--env",
        ",".join(args.env),
        "--code-dir",
        str(args.code_dir.resolve()),
        "--time-scale",
        str(args.time_scale),
    ]
    if args.cdk_out is not None:
        serve_args += ["--cdk-out", str(args.cdk_out.resolve())]
    if args.command == "up":
        try:
            return control.up(state_dir, args.port, serve_args)
        except KeyboardInterrupt:  # the server has a session of its own: it goes on starting
            print("\nStopped waiting; the local cloud goes on starting in the background: make down stops it")
            return 130
    from . import engine  # moto's backends and interpreter: only the server's own process loads them

    try:
        return engine.serve(
            state_dir=state_dir,
            port=args.port,
            envs=args.env,
            cdk_out=args.cdk_out.resolve() if args.cdk_out else None,
            code_dir=args.code_dir.resolve(),
            time_scale=args.time_scale,
        )
    except (engine.PortTaken, SynthError, TemplateError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # before it serves (a synthesis, a deployment); once serving, ^C stops it cleanly
        return 130


if __name__ == "__main__":
    sys.exit(main())
