"""`python -m local_runner approve`: prod's manual approval on this machine.

A prod run registers its model as PendingManualApproval and stops. Approving the package (as a person does in
the console, or with `aws sagemaker update-model-package`) emits SageMaker's state-change event; the template's
own EventBridge rule starts the approval workflow, which deploys the approved model. This command does the
approving against the local cloud and follows that workflow to its end.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline_client.in_process import client_of

from .cloud import LocalCloud
from .progress import command_assembly, follow, make_console
from .template import TemplateError

PENDING = "PendingManualApproval"


def add_parser(commands: argparse._SubParsersAction, *, state_dir: Path) -> None:
    text = "approve a model a prod run registered, and deploy it through the approval workflow"
    cmd = commands.add_parser("approve", help=text, description=text)
    cmd.add_argument("--model-package-arn", help="the version to approve (default: the newest pending one)")
    cmd.add_argument("--env", default="prod", help="configuration with manual approval (config/ENV.json), default prod")
    cmd.add_argument("--cdk-out", type=Path, help="use this synthesized cloud assembly (e.g. cdk.out) as it is")
    cmd.add_argument("--state-dir", type=Path, default=state_dir, help="local S3 and SageMaker state (.local/)")
    cmd.add_argument("--time-scale", type=float, default=0.02, help="Wait/Retry time factor (1 = real time)")


def _pending(sagemaker, group: str) -> list[dict]:
    packages = sagemaker.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus=PENDING)
    return sorted(packages["ModelPackageSummaryList"], key=lambda p: p["CreationTime"])


def approve(args: argparse.Namespace) -> int:
    console = make_console()
    state_dir = args.state_dir.resolve()
    assembly = command_assembly(args, console, state_dir)
    runner_dir = state_dir / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    with LocalCloud(runner_dir, time_scale=args.time_scale, lambda_log=runner_dir / "lambda.log") as cloud:
        cloud.deploy(assembly)
        client = client_of(cloud, env=args.env, work_dir=state_dir)  # the notebook's client; the stacks' outputs
        machine = client.resources.approval_state_machine_arn
        if machine is None:
            raise TemplateError(
                f"the {args.env} stage has no approval workflow: its models are approved when registered "
                f"(pipeline.model_approval_status in config/{args.env}.json); approve in prod: --env prod"
            )
        sagemaker = client.client("sagemaker")
        package = args.model_package_arn
        if package is None:
            pending = _pending(sagemaker, client.resources.model_package_group)
            if not pending:
                console.print(
                    f"No model is waiting for approval. Register one with a prod run first: "
                    f'python -m local_runner run --env {args.env} (make run RUN_ARGS="--env {args.env}")'
                )
                return 1
            package = pending[-1]["ModelPackageArn"]
        status = sagemaker.describe_model_package(ModelPackageName=package)["ModelApprovalStatus"]
        if status != PENDING:
            console.print(f"{package} is {status}, not {PENDING}: nothing to approve")
            return 1
        sfn = client.client("stepfunctions")
        before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
        sagemaker.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
        console.print(f"Approved [bold]{package}[/]; the approval workflow deploys it:")
        started = [
            e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if e["executionArn"] not in before
        ]
        if not started:
            console.print("[red]The approval rule started no workflow[/]: check the Approval rule in the template")
            return 1
        payload = {"model_package_arn": package}
        result = follow(cloud, started[0]["executionArn"], payload, console)
        if result.status != "SUCCEEDED":
            console.print(f"[red bold]Approval workflow {result.status}[/]: [bold]{result.error}[/]\n{result.cause}")
            return 1
        endpoint = (result.output or {}).get("endpoint_name")
        url = cloud.sagemaker.endpoint_url(endpoint) if endpoint else None
        console.print(f"Endpoint [bold]{endpoint}[/] is InService at [bold]{url}/invocations[/]")
        console.print("Stop the endpoint with: python -m local_runner stop (make stop)")
    return 0
