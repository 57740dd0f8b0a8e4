"""Deploys a synthesized cloud assembly into the local cloud: what the state machines touch (buckets, topics,
queues, model package groups, alarms, Lambda functions, EventBridge rules) and the state machines themselves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from . import s3
from .events import Rule, Target
from .lambdas import Function
from .permissions import Authorizer, PolicyStore
from .template import Assembly, TemplateError
from .validation import operation_model

if TYPE_CHECKING:
    from .cloud import LocalCloud


class TemplateDeployer:
    """Deploys assemblies into one started LocalCloud; remembers what it deployed for the permission checks."""

    def __init__(self, cloud: LocalCloud):
        self.cloud = cloud
        self._deployed: dict[tuple[str, ...], Assembly] = {}

    def client(self, service: str) -> Any:
        return self.cloud.client(service)

    def deploy(self, assembly: Assembly) -> dict[str, str]:
        """Create what the state machines touch: buckets, topics, queues, model package groups,
        Lambda functions and the state machines themselves (with their definitions resolved)."""
        self.cloud.assembly = assembly
        assembly.region, assembly.account = self.cloud.region, self.cloud.account
        # Stacks deployed earlier into this cloud keep their policies; a stack deployed again replaces its own.
        self._deployed[tuple(sorted(assembly.stacks))] = assembly
        store = PolicyStore.from_assemblies(list(self._deployed.values()))
        if self.cloud.authorizer is None:
            self.cloud.authorizer = Authorizer(store, enabled=self.cloud.enforce_permissions)
        else:
            self.cloud.authorizer.use(store)
        self.cloud.router.authorizer = self.cloud.authorizer
        self.cloud.events.authorizer = self.cloud.authorizer
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for logical_id in stack.of_type("AWS::S3::Bucket"):
                s3.ensure_bucket(resolver.ref(logical_id))
            for logical_id in stack.of_type("AWS::SNS::Topic"):
                self.client("sns").create_topic(Name=assembly.physical_name(stack, logical_id))
            for logical_id in stack.of_type("AWS::SQS::Queue"):
                name = assembly.physical_name(stack, logical_id)
                attributes = {"FifoQueue": "true"} if name.endswith(".fifo") else {}
                self.client("sqs").create_queue(QueueName=name, Attributes=attributes)
            for logical_id, resource in stack.of_type("AWS::SageMaker::ModelPackageGroup").items():
                props = resource.get("Properties", {})
                self.cloud.sagemaker.ensure_model_package_group(
                    resolver.ref(logical_id).rsplit("/", 1)[-1]
                    if "ModelPackageGroupName" not in props
                    else resolver.resolve(props["ModelPackageGroupName"]),
                    resolver.resolve(props.get("ModelPackageGroupDescription", "")),
                )
            for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
                self.cloud.lambdas.add(self._function(assembly, stack, logical_id, resource))
            for logical_id, resource in stack.of_type("AWS::CloudWatch::Alarm").items():
                self._alarm(resolver, logical_id, resource)
        for stack, logical_id, resource in assembly.state_machines():
            resolver = assembly.resolver(stack)
            props = resource["Properties"]
            definition = self._definition(resolver, props)
            name = assembly.physical_name(stack, logical_id)
            role = resolver.resolve(props.get("RoleArn", f"arn:aws:iam::{self.cloud.account}:role/local"))
            sfn = self.client("stepfunctions")
            arn = f"arn:aws:states:{self.cloud.region}:{self.cloud.account}:stateMachine:{name}"
            try:
                sfn.describe_state_machine(stateMachineArn=arn)
                sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
            except sfn.exceptions.StateMachineDoesNotExist:
                arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
            self.cloud.state_machines[logical_id] = arn
        self._rules(assembly)
        return dict(self.cloud.state_machines)

    def _alarm(self, resolver, logical_id: str, resource: dict[str, Any]) -> None:
        """The template's alarm in moto's CloudWatch, under the name its Ref resolves to, so that the alarm names a
        definition passes (e.g. in UpdateEndpoint's AutoRollbackConfiguration) find it."""
        props = resolver.resolve(resource.get("Properties", {}))
        accepted = operation_model("cloudwatch", "PutMetricAlarm").input_shape.members
        request = {k: v for k, v in props.items() if k in accepted and v is not None}
        request["AlarmName"] = resolver.ref(logical_id)
        cloudwatch = self.client("cloudwatch")
        existing = cloudwatch.describe_alarms(AlarmNames=[request["AlarmName"]])["MetricAlarms"]
        cloudwatch.put_metric_alarm(**request)
        if existing and existing[0]["StateValue"] != "OK":  # AWS leaves an updated alarm's state unchanged; moto not
            cloudwatch.set_alarm_state(
                AlarmName=request["AlarmName"],
                StateValue=existing[0]["StateValue"],
                StateReason=existing[0].get("StateReason") or "unchanged by the update of the alarm",
            )

    def _rules(self, assembly: Assembly) -> None:
        """EventBridge rules whose targets are this assembly's state machines (see events.py)."""
        machines = set(self.cloud.state_machines.values())
        for stack in assembly.stacks.values():
            resolver = assembly.resolver(stack)
            for logical_id, resource in stack.of_type("AWS::Events::Rule").items():
                props = resolver.resolve(resource.get("Properties", {}))
                targets = tuple(
                    Target(
                        arn=t["Arn"],
                        role_arn=t.get("RoleArn"),
                        dead_letter_arn=t.get("DeadLetterConfig", {}).get("Arn"),
                        constant_input=t.get("Input"),
                        paths=t.get("InputTransformer", {}).get("InputPathsMap"),
                        template=t.get("InputTransformer", {}).get("InputTemplate"),
                    )
                    for t in props.get("Targets", [])
                    if t["Arn"] in machines
                )
                if targets and "EventPattern" in props:
                    self.cloud.events.add(
                        Rule(logical_id, props["EventPattern"], targets, resolver.get_att(logical_id, "Arn"))
                    )

    @staticmethod
    def _definition(resolver, props: dict[str, Any]) -> str:
        if "DefinitionString" in props:
            text = resolver.resolve(props["DefinitionString"])
        elif "Definition" in props:
            text = json.dumps(resolver.resolve(props["Definition"]))
        else:
            raise TemplateError("state machine without DefinitionString or Definition")
        for key, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
            text = text.replace("${" + key + "}", str(value))
        return text

    def _function(self, assembly: Assembly, stack, logical_id: str, resource: dict[str, Any]) -> Function:
        resolver = assembly.resolver(stack)
        props = resource.get("Properties", {})
        name = assembly.physical_name(stack, logical_id)
        asset = resource.get("Metadata", {}).get("aws:asset:path")
        if asset:
            code_dir = (assembly.directory / asset).resolve()
        elif "ZipFile" in props.get("Code", {}):
            code_dir = self.cloud.state_dir / "lambda-inline" / name
            code_dir.mkdir(parents=True, exist_ok=True)
            module = props.get("Handler", "index.handler").rsplit(".", 1)[0]
            (code_dir / f"{module}.py").write_text(resolver.resolve(props["Code"]["ZipFile"]))
        else:
            raise TemplateError(f"{stack.name}/{logical_id}: no aws:asset:path metadata and no inline code")
        env = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
        return Function(
            name=name,
            arn=resolver.get_att(logical_id, "Arn"),
            handler=props.get("Handler", "index.handler"),
            code_dir=code_dir,
            environment={k: str(v) for k, v in env.items()},
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
            role_arn=resolver.resolve(props["Role"]) if "Role" in props else None,
        )
