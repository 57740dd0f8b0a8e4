"""The local run's permission check against the synthesized dev templates: what it allows and denies, how a
denial fails a run, and a mutation test over every statement the default commands use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_runner import s3
from local_runner.permissions import AccessDenied, Authorizer, Origin, PolicyStore, Principal, requests_for
from local_runner.permissions.pmapper import CaseInsensitiveDict as Keys
from local_runner.permissions.pmapper import Policy, ResourcePolicyEvalResult, simulation

SNAPSHOTS = Path(__file__).resolve().parents[1] / "stacks" / "__snapshots__" / "test_snapshots"
_POLICY_TYPES = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
}


@pytest.fixture(scope="module")
def store(pipeline_assembly) -> PolicyStore:
    pipeline_assembly.region, pipeline_assembly.account = "us-east-1", "123456789012"
    return PolicyStore.from_assembly(pipeline_assembly)


def _role(store: PolicyStore, fragment: str) -> Principal:
    return Principal(next(arn for arn in store.identity if fragment in arn.rsplit("/", 1)[-1]))


def _bucket(store: PolicyStore, fragment: str) -> str:
    return next(arn for arn in store.encryption if arn.startswith("arn:aws:s3:::") and fragment in arn)[13:]


def test_a_denied_call_names_the_action_the_principal_and_the_resource(store) -> None:
    role = _role(store, "SageMakerExecutionRole")
    bucket = _bucket(store, "databucket")
    with pytest.raises(AccessDenied) as denied:
        Authorizer(store).check("s3", role, requests_for("s3", "PutObject", {"Bucket": bucket, "Key": "x.csv"}, store))
    message = denied.value.message
    assert "s3:PutObject" in message
    assert f"arn:aws:s3:::{bucket}/x.csv" in message
    assert "assumed-role/" + role.arn.rsplit("/", 1)[-1] in message
    assert "SageMakerPipeline-dev-Pipeline/SageMakerExecutionRole" in message  # the template's logical id
    assert "because no identity-based policy allows the s3:PutObject action" in message
    assert denied.value.code == "AccessDenied" and denied.value.status == 403


def test_the_bucket_policy_denies_plain_http_even_to_a_role_that_may_read(store) -> None:
    role = _role(store, "SageMakerExecutionRole")
    bucket = _bucket(store, "databucket")
    request = requests_for("s3", "GetObject", {"Bucket": bucket, "Key": "x.csv"}, store)[0]
    assert Authorizer(store).evaluate(role, request) == (True, "")
    insecure = type(request)(request.action, request.resource, {**request.context, "aws:SecureTransport": "false"})
    assert Authorizer(store).evaluate(role, insecure) == (False, "with an explicit deny in a resource-based policy")


def test_reading_an_sse_kms_object_also_needs_the_key(store) -> None:
    requests = requests_for("s3", "GetObject", {"Bucket": _bucket(store, "databucket"), "Key": "x.csv"}, store)
    assert [r.action for r in requests] == ["s3:GetObject", "kms:Decrypt"]
    assert requests[1].context["kms:ViaService"] == "s3.us-east-1.amazonaws.com"


def test_the_workflow_may_pass_only_the_sagemaker_role(store) -> None:
    workflow = _role(store, "WorkflowStateMachineRole")
    sagemaker = _role(store, "SageMakerExecutionRole")
    authorizer = Authorizer(store)
    for passed, allowed in ((sagemaker.arn, True), (workflow.arn, False)):
        requests = requests_for("sagemaker", "CreateTrainingJob", {"TrainingJobName": "j", "RoleArn": passed}, store)
        pass_role = next(r for r in requests if r.action == "iam:PassRole")
        assert pass_role.context["iam:PassedToService"] == "sagemaker.amazonaws.com"
        assert authorizer.evaluate(workflow, pass_role)[0] is allowed


def _deliveries(pipeline_assembly) -> list[tuple[str, str, str, str, str]]:
    """(service principal, source ARN, action, destination, service) for every destination a service writes to:
    the rules' dead-letter queues and SNS targets, and the alarms' SNS actions."""
    found = []
    for stack in pipeline_assembly.stacks.values():
        resolver = pipeline_assembly.resolver(stack)
        for logical_id, resource in stack.of_type("AWS::Events::Rule").items():
            rule = resolver.get_att(logical_id, "Arn")
            for target in resolver.resolve(resource["Properties"]).get("Targets", []):
                queue = target.get("DeadLetterConfig", {}).get("Arn")
                if queue:
                    found.append(("events.amazonaws.com", rule, "sqs:SendMessage", queue, "sqs"))
                if target["Arn"].startswith("arn:aws:sns:"):
                    found.append(("events.amazonaws.com", rule, "sns:Publish", target["Arn"], "sns"))
        for logical_id, resource in stack.of_type("AWS::CloudWatch::Alarm").items():
            props = resolver.resolve(resource["Properties"])
            alarm = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{resolver.ref(logical_id)}"
            for action in props.get("AlarmActions", []) + props.get("OKActions", []):
                if action.startswith("arn:aws:sns:"):
                    found.append(("cloudwatch.amazonaws.com", alarm, "sns:Publish", action, "sns"))
    return found


def test_every_service_may_write_to_the_encrypted_destinations_it_delivers_to(pipeline_assembly, store) -> None:
    """Found by review: EventBridge could not use the key of its dead-letter queues, so an undeliverable event
    was lost. Every (service, destination) pair of the templates is authorized as the service principal."""
    deliveries = _deliveries(pipeline_assembly)
    assert {d[0] for d in deliveries} == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}
    authorizer = Authorizer(store)
    refused = []
    for service_principal, source, action, destination, service in deliveries:
        try:
            authorizer.check_delivery(service, Principal(service_principal, source_arn=source), action, destination)
        except AccessDenied as denied:
            refused.append(denied.message)
    assert refused == []


def test_a_role_that_may_not_start_the_workflow_leaves_the_event_in_its_dead_letter_queue(store) -> None:
    from local_runner.events import LocalEventBus, Rule, Target

    started = []
    bus = LocalEventBus(lambda arn, payload: started.append(arn) or "execution")
    bus.authorizer = Authorizer(store)
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:other"
    bus.add(Rule("r", {"source": ["test"]}, (Target(arn=machine, role_arn=_role(store, "EventsRole").arn),), "rule"))
    assert bus.put_event({"source": "test"}) == []
    assert started == []
    assert bus.lost and "states:StartExecution" in bus.lost[0][2]


# -- denials in a run ------------------------------------------------------------------------------
def _origin(store: PolicyStore, holder_fragment: str, predicate) -> Origin:
    for origin in store.origins():
        if holder_fragment in origin.holder and predicate(store.statement(origin)):
            return origin
    raise AssertionError(f"no statement of {holder_fragment} matches")


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else actions


@pytest.mark.slow
def test_a_sagemaker_role_that_cannot_read_the_data_fails_processing_as_on_aws(run) -> None:
    store = run.cloud.authorizer.store
    origin = _origin(
        store, "SageMakerExecutionRole", lambda s: "s3:GetObject*" in _actions(s) and "databucket" in json.dumps(s)
    )
    run.cloud.authorizer.use(store.without(origin))
    result = run(tuning=False)
    assert result.status == "FAILED"
    assert "HandleFailure" in result.visited  # the failure path ran, as on AWS
    process = result.state("Process")
    assert process.status == "failed"
    assert "is not authorized to perform: s3:" in result.cause and "databucket" in result.cause  # its first read
    assert "SageMakerExecutionRole" in result.cause
    job = run.cloud.sagemaker.store.values("processing_jobs")[-1]
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: User: arn:aws:sts::123456789012:assumed-role/")


@pytest.mark.slow
def test_a_workflow_that_may_not_pass_the_role_is_retried_then_caught(run) -> None:
    store = run.cloud.authorizer.store
    origin = _origin(
        store,
        "WorkflowStateMachineRole",
        lambda s: _actions(s) == ["iam:PassRole"] or s.get("Action") == "iam:PassRole",
    )
    run.cloud.authorizer.use(store.without(origin))
    result = run(tuning=False)
    assert result.status == "FAILED"
    process = result.state("Process")
    assert process.attempts > 1  # SageMaker.AmazonSageMakerException is retried, as the definition says
    assert "HandleFailure" in result.visited
    assert "iam:PassRole" in result.cause and "WorkflowStateMachineRole" in result.cause
    assert run.cloud.sagemaker.store.values("processing_jobs") == []


@pytest.mark.slow
def test_with_checks_off_a_run_passes_and_lists_what_aws_would_deny(run) -> None:
    store = run.cloud.authorizer.store
    origin = _origin(store, "WorkflowStateMachineRole", lambda s: s.get("Action") == "iam:PassRole")
    off = Authorizer(store.without(origin), enabled=False)
    run.cloud.router.authorizer = run.cloud.events.authorizer = run.cloud.authorizer = off
    result = run(tuning=False)
    assert result.status == "SUCCEEDED"
    assert {d.request.action for d in off.denied()} == {"iam:PassRole"}


# -- the mutation test --------------------------------------------------------------------------------
def _snapshot_statements() -> list[tuple[str, str, int]]:
    """(stack, logical id, index) of every statement of every policy in the committed dev snapshots."""
    found = []
    for path in sorted(SNAPSHOTS.glob("*[[]dev[]][[]dev-*.json")):
        role = path.stem.rsplit("[dev-", 1)[1].rstrip("]")
        stack = f"SageMakerPipeline-dev-{role.capitalize()}"
        template = json.loads(path.read_text())
        for logical_id, resource in sorted(template["Resources"].items()):
            document = _POLICY_TYPES.get(resource["Type"])
            if document is None:
                continue
            statements = resource["Properties"][document]["Statement"]
            found += [(stack, logical_id, i) for i in range(len(statements))]
    return found


@pytest.fixture(scope="module")
def default_decisions(tmp_path_factory, pipeline_assembly, dataset, snapshot):
    """Every authorization the default commands make: a tuned run, a second (untuned) run that updates the
    endpoint, and a batch scoring run."""
    from pipeline_harness import execution_input, stack_resources

    from local_runner import LocalCloud

    cloud = LocalCloud(tmp_path_factory.mktemp("mutation") / "state", code_dir=snapshot, persist=False, time_scale=0.02)
    with cloud:
        arns = cloud.deploy(pipeline_assembly)
        machine = stack_resources(cloud).state_machine_arn
        data_uri = f"s3://{stack_resources(cloud).data_bucket}/datasets/breast_cancer.csv"
        s3.upload_file(dataset, data_uri)
        try:
            tuned = cloud.run(machine, execution_input(data_uri, max_jobs=2, parallel=1), 300)
            untuned = cloud.run(machine, execution_input(data_uri, tuning=False), 300)
            scoring = next(arn for logical_id, arn in arns.items() if logical_id.startswith("Scoring"))
            scored = cloud.run(scoring, {"data": data_uri, "skip_first_column": True}, 300)
        finally:
            cloud.sagemaker.stop_endpoints()
    assert [tuned.status, untuned.status, scored.status] == ["SUCCEEDED"] * 3, [
        tuned.cause,
        untuned.cause,
        scored.cause,
    ]
    assert not cloud.authorizer.denied()
    unique = {}
    for decision in cloud.authorizer.decisions:
        request = decision.request
        unique[(decision.principal, request.action, request.resource, tuple(sorted(request.context.items())))] = (
            decision
        )
    return cloud.authorizer.store, list(unique.values())


def _matches(store: PolicyStore, origin: Origin, statement: dict, decision) -> bool:
    """Whether the statement alone allows the decision's request for its principal."""
    request, principal = decision.request, decision.principal
    keys = Keys({**request.context, "aws:SecureTransport": "true"})
    if origin.holder in store.identity:
        if principal.arn != origin.holder:
            return False
        policy = Policy(f"{origin.holder}#m", "m", {"Statement": [statement]})
        return simulation.policy_has_matching_statement(policy, "Allow", request.action, request.resource, keys)
    if origin.holder not in (request.resource, request.resource.split("/", 1)[0]):
        return False
    node = principal.arn if principal.is_service else Authorizer(store)._node(principal.arn)
    result = simulation.resource_policy_authorization(
        node, store.account, {"Statement": [statement]}, request.action, request.resource, keys
    )
    return result not in (ResourcePolicyEvalResult.NO_MATCH, ResourcePolicyEvalResult.DENY_MATCH)


@pytest.mark.slow
@pytest.mark.parametrize("stack, logical_id, index", _snapshot_statements())
def test_removing_a_statement_the_default_commands_use_fails_the_call_that_needed_it(
    default_decisions, stack, logical_id, index
) -> None:
    store, decisions = default_decisions
    origins = [o for o in store.origins() if (o.stack, o.logical_id, o.index) == (stack, logical_id, index)]
    assert origins, f"{stack}/{logical_id} statement {index} is in the snapshot but not in the synthesized template"
    origin = origins[0]
    statement = store.statement(origin)
    if statement["Effect"] == "Deny":
        pytest.skip("a Deny statement grants nothing: removing it cannot fail a call")
    used = [d for d in decisions if _matches(store, origin, statement, d)]
    if not used:
        pytest.skip(f"not used by make run, a second run or make score: {json.dumps(statement)[:300]}")
    mutant = Authorizer(store.without(origin))
    failed = []
    for decision in used:
        allowed, why = mutant.evaluate(decision.principal, decision.request)
        if not allowed:
            failed.append(AccessDenied("x", decision.principal, decision.request, why, store.describe))
    assert failed, f"{origin} is used but redundant: another statement allows everything it allows"
    message = failed[0].message
    assert failed[0].request.action in message
    assert failed[0].principal.caller in message


# -- defects the enforced run found ---------------------------------------------------------------
def test_the_workflow_may_use_the_key_it_has_sagemaker_encrypt_endpoint_configs_with(store) -> None:
    """Found by the enforced run: DescribeKey sat in a statement conditioned on kms:GrantIsForAWSResource, a key
    that only grant operations carry, so CreateEndpointConfig with a KmsKeyId was denied."""
    workflow = _role(store, "WorkflowStateMachineRole")
    key = next(iter(k for k in store.resource if k.startswith("arn:aws:kms:")))
    params = {"EndpointConfigName": "c", "ProductionVariants": [], "KmsKeyId": key}
    requests = requests_for("sagemaker", "CreateEndpointConfig", params, store)
    assert [r.action for r in requests] == ["sagemaker:CreateEndpointConfig", "kms:CreateGrant", "kms:DescribeKey"]
    assert [Authorizer(store).evaluate(workflow, r) for r in requests] == [(True, "")] * 3


def test_sagemaker_may_read_the_rollback_alarms_as_the_execution_role(pipeline_assembly, store) -> None:
    """Found by the enforced run: a blue/green update reads the auto-rollback alarms as the endpoint's
    execution role, which could not, so every second run rolled back."""
    role = _role(store, "SageMakerExecutionRole")
    names = [
        pipeline_assembly.resolver(stack).ref(logical_id)
        for stack in pipeline_assembly.stacks.values()
        for logical_id in stack.of_type("AWS::CloudWatch::Alarm")
        if logical_id.startswith("EndpointAlarms")
    ]
    assert len(names) == 2
    requests = requests_for("cloudwatch", "DescribeAlarms", {"AlarmNames": names}, store)
    assert [r.resource.rsplit(":", 1)[-1] for r in requests] == names
    assert [Authorizer(store).evaluate(role, r)[0] for r in requests] == [True, True]
    other = requests_for("cloudwatch", "DescribeAlarms", {"AlarmNames": ["someone-elses"]}, store)[0]
    assert Authorizer(store).evaluate(role, other)[0] is False
