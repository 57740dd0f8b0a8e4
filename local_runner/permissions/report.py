"""What a run says about the permission check: that it was on, or that it was off and what it would have denied."""

from __future__ import annotations

from argparse import ArgumentParser, BooleanOptionalAction

from rich.console import Console

from .authorizer import Authorizer

FLAG_HELP = (
    "authorize every call as the principal that makes it on AWS, against the synthesized templates' IAM, key and "
    "resource policies (default on; --no-permission-checks for debugging)"
)


def add_flag(command: ArgumentParser) -> None:
    command.add_argument("--permission-checks", action=BooleanOptionalAction, default=True, help=FLAG_HELP)


def announce(console: Console, enforced: bool) -> None:
    if not enforced:
        console.print(
            "[yellow bold]Permission checks are OFF[/] (--no-permission-checks): calls that AWS would deny will "
            "succeed here; they are listed at the end."
        )


def summarize(console: Console, authorizer: Authorizer | None) -> None:
    if authorizer is None:
        return
    decisions = authorizer.decisions
    denied = authorizer.denied()
    if authorizer.enabled:
        console.print(
            f"[dim]Permissions: {len(decisions)} authorization checks against the templates' policies, "
            f"{len(denied)} denied[/]"
        )
        return
    console.print(
        f"[yellow bold]Permission checks were OFF[/]: {len(denied)} of {len(decisions)} calls would be denied"
    )
    seen = set()
    for decision in denied:
        key = (decision.principal.arn, decision.request.action, decision.request.resource)
        if key not in seen:
            seen.add(key)
            console.print(f"  {decision.principal.arn}: {decision.request.action} on {decision.request.resource}")
