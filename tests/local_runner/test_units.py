"""Fast checks of the pieces: token resolution, validation, error names, search strategies, metrics, CLI errors."""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest
from fixture_assembly import engine_role

from local_runner import Assembly, LocalCloud
from local_runner.cli import main
from local_runner.sagemaker import records
from local_runner.sagemaker.bluegreen import shares
from local_runner.sagemaker.jobs import container_path, final_metrics
from local_runner.sagemaker.tuning import strategy_for
from local_runner.validation import ServiceError, validate_request

STORAGE = {
    "Resources": {"Data": {"Type": "AWS::S3::Bucket"}, "Key": {"Type": "AWS::KMS::Key"}},
    "Outputs": {"DataName": {"Value": {"Ref": "Data"}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:Data"}}}},
}
PIPELINE = {
    "Resources": {
        "Role": {"Type": "AWS::IAM::Role"},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "named-fn"}},
        "Topic": {"Type": "AWS::SNS::Topic"},
    }
}


def test_tokens_resolve_across_stacks():
    assembly = Assembly.from_templates({"Store": STORAGE, "Pipe": PIPELINE})
    resolve = assembly.resolver("Pipe").resolve
    value = resolve(
        {
            "Fn::Join": [
                "",
                [
                    "s3://",
                    {"Fn::ImportValue": "Store:Data"},
                    "/",
                    {"Ref": "AWS::Region"},
                    " ",
                    {"Fn::GetAtt": ["Fn", "Arn"]},
                    " ",
                    {"Ref": "Topic"},
                    " ",
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/x"},
                ],
            ]
        }
    )
    uri, function, topic, role = value.split(" ")
    bucket = uri.split("/")[2]
    assert value.startswith("s3://store-data/us-east-1 ")
    assert function == "arn:aws:lambda:us-east-1:123456789012:function:named-fn"
    assert topic == "arn:aws:sns:us-east-1:123456789012:Pipe-Topic"
    assert role == "arn:aws:iam::123456789012:role/x"
    assert bucket == "store-data"


def test_requests_are_validated_against_botocore():
    with pytest.raises(ServiceError) as wrong_type:
        validate_request("sagemaker", "CreateModel", {"ModelName": "m", "PrimaryContainer": "not-a-structure"})
    assert wrong_type.value.code == "ValidationException" and "PrimaryContainer" in wrong_type.value.message
    with pytest.raises(ServiceError) as bad_name:
        validate_request("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "bad_name!"})
    assert "regular expression pattern" in bad_name.value.message


def test_plain_boto3_clients_reach_the_local_sagemaker(tmp_path):
    with LocalCloud(tmp_path, persist=False):
        client = boto3.client("sagemaker", region_name="us-east-1")
        with pytest.raises(client.exceptions.ResourceNotFound):
            client.describe_training_job(TrainingJobName="missing")
        with pytest.raises(botocore.exceptions.ClientError) as missing:
            client.describe_endpoint(EndpointName="missing")
        assert missing.value.response["Error"]["Code"] == "ValidationException"
        with pytest.raises(botocore.exceptions.ParamValidationError):
            client.create_model(ModelName="m", PrimaryContainer="oops")
        arn = client.create_model(ModelName="m", PrimaryContainer={"Image": "i"})["ModelArn"]
        assert client.describe_model(ModelName="m")["ModelArn"] == arn


def test_state_machine_errors_are_named_as_step_functions_names_them(tmp_path):
    definition = {
        "StartAt": "Describe",
        "States": {
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob",
                "Parameters": {"TrainingJobName": "missing"},
                "Catch": [{"ErrorEquals": ["SageMaker.ResourceNotFoundException"], "Next": "Create"}],
                "End": True,
            },
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {"ModelName": "m", "PrimaryContainer": "not-a-structure"},
                "End": True,
            },
        },
    }
    template = {
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": json.dumps(definition),
                    "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                },
            },
            "Role": engine_role(),
        }
    }
    with LocalCloud(tmp_path, persist=False, time_scale=0.01) as cloud:
        arns = cloud.deploy(Assembly.from_templates({"S": template}, tmp_path))
        result = cloud.run(arns["Machine"], {})
    assert result.visited == ["Describe", "Create"]
    assert result.status == "FAILED" and result.error == "SageMaker.AmazonSageMakerException"
    assert "ValidationException" in result.cause and "PrimaryContainer" in result.cause


def test_grid_enumerates_and_random_stays_in_range():
    grid = strategy_for(
        "Grid",
        {
            "IntegerParameterRanges": [{"Name": "d", "MinValue": "1", "MaxValue": "3"}],
            "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b"]}],
        },
        None,
        "Maximize",
    )
    combos = []
    while (suggestion := grid.suggest()) is not None:
        combos.append(suggestion[1])
    assert len(combos) == 6 and {"d": "3", "c": "b"} in combos
    rnd = strategy_for(
        "Random",
        {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
            ]
        },
        5,
        "Maximize",
    )
    assert all(0.01 <= float(rnd.suggest()[1]["eta"]) <= 0.5 for _ in range(50))


def test_bayesian_search_learns_from_reported_values():
    bayes = strategy_for(
        "Bayesian", {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}, 12, "Minimize"
    )
    for _ in range(12):
        token, values = bayes.suggest()
        bayes.report(token, (float(values["x"]) - 0.3) ** 2)
    assert abs(bayes.study.best_params["x"] - 0.3) < 0.15


def test_final_metric_is_the_last_match_and_paths_map_into_the_job_tree(tmp_path):
    log = "[epoch 1] validation:accuracy=0.5;\n[epoch 2] validation:accuracy=0.75;\n"
    definitions = [{"Name": "validation:accuracy", "Regex": r"validation:accuracy=([0-9.]+)"}]
    assert final_metrics(log, definitions) == {"validation:accuracy": 0.75}
    assert container_path(tmp_path, "/opt/ml/processing/train") == tmp_path / "processing" / "train"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--data", "/nonexistent/data.csv"], "no such file; give the path of a CSV"),
        (["run", "--data", __file__], "not a .csv file; export the dataset as CSV"),
        (["run", "--max-jobs", "0"], "max_jobs=0: expected a whole number from 1 to 500"),
        (["run", "--algorithm", "no-such-algorithm"], "is not known"),
        (["run", "--no-tuning", "--max-jobs", "4"], "need tuning"),
        (["run", "--max-jobs", "2", "--parallel", "3"], "exceeds"),
    ],
)
def test_cli_rejects_bad_options_clearly(argv, message, capsys, tmp_path):
    assert main([*argv, "--state-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["run", "--max-jobs", "x"], ["run", "--threshold", "high"], ["run", "--strategy", "Magic"]]
)
def test_cli_argument_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2


def _csv(tmp_path, name: str, rows: list[str]):
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--threshold", "2"], "threshold: 2 is outside the range of accuracy; give a number from 0 to 1"),
        (["run", "--threshold", "-1"], "threshold: -1 is outside the range of accuracy"),
        (["run", "--threshold", "nan"], "threshold=nan: expected a finite number"),
        (["run", "--algorithm", "ridge", "--metric", "accuracy"], "'accuracy' is not measured for ridge"),
        (["run", "--algorithm", "ridge", "--metric", "rmse", "--threshold", "-3"], "give a number of at least 0"),
        (["run", "--algorithm", "xgboost", "--hyperparameter", "max_depth=deep"], "max_depth"),
        (["run", "--hyperparameter", "eta=0.1", "--hyperparameter", "eta=0.2"], "eta given more than once"),
        (["run", "--training-instance-type", "ml.m5.larg"], "did you mean 'ml.m5.large'?"),
        (["run", "--endpoint-instance-type", "ml.m5.large"], "serverless endpoint, which has no instance type"),
    ],
)
def test_run_options_are_checked_before_anything_starts(argv, message, capsys, tmp_path):
    assert main([*argv, "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "runner").exists(), "nothing may start before the options are checked"


@pytest.mark.parametrize(
    ("rows", "argv", "message"),
    [
        (["1,2.5,3"], [], "one.csv: 1 data row; the processing job splits the data"),
        (["1,2.5,3", "0,red,4", "1,1,1", "0,2,2"], [], "one.csv line 2, column 2: 'red' is not a number"),
        (
            [f"{i * 1.37:.2f},{i},{i % 3}" for i in range(200)],
            ["--algorithm", "random-forest"],
            "the label (column 1) looks continuous",
        ),
    ],
)
def test_a_dataset_the_pipeline_would_reject_fails_before_the_run(rows, argv, message, capsys, tmp_path):
    data = _csv(tmp_path, "one.csv", rows)
    assert main(["run", "--data", data, *argv, "--state-dir", str(tmp_path / "state")]) == 2
    assert message in capsys.readouterr().err


def test_an_unknown_option_shows_the_commands_usage_and_the_nearest_option(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--treshold", "0.5"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: python -m local_runner run" in err and "did you mean --threshold?" in err


def test_transform_records_follow_the_data_processing_rules():
    row = ["id-7", "1.5", "2.5", "3.5"]
    assert records.path("$")(row) == row
    assert records.path("$[1:]")(row) == ["1.5", "2.5", "3.5"]
    assert records.path("$[1:2]")(row) == ["1.5", "2.5"]  # the developer guide's slice end is inclusive
    assert records.path("$[0]")(row) == "id-7" and records.path("$[0,-1]")(row) == ["id-7", "3.5"]
    assert records.path("$['id','SageMakerOutput']")({"id": 1, "x": 2, "SageMakerOutput": 3}) == {
        "id": 1,
        "SageMakerOutput": 3,
    }
    with pytest.raises(records.Unsupported):
        records.path("$..x")
    assert records.join(row, ["1"], "text/csv") == [*row, "1"]
    assert records.join({"a": 1}, {"label": 0}, "application/jsonlines") == {"a": 1, "SageMakerOutput": {"label": 0}}
    assert records.join([1, 2], 0, "application/json") == {"SageMakerInput": [1, 2], "SageMakerOutput": 0}
    assert records.render(records.parse(b'x,"a,b",3', "text/csv"), "text/csv") == b'x,"a,b",3'
    lines = [b"aaaa", b"bbbb", b"cccc", b"dd"]  # 4 + 1 + 4 = 9 bytes fit in 10, the third line does not
    assert records.batches(lines, "MultiRecord", 10, "f") == [(0, 2), (2, 4)]
    assert records.batches(lines, "SingleRecord", 10, "f") == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert records.batches(lines, "MultiRecord", 0, "f") == [(0, 4)]  # MaxPayloadInMB 0: no limit
    with pytest.raises(records.RecordError):
        records.batches([b"x" * 11], "MultiRecord", 10, "f")


def test_blue_green_traffic_steps():
    def policy(routing):
        return {"TrafficRoutingConfiguration": {"WaitIntervalInSeconds": 0, **routing}}

    assert shares(policy({"Type": "ALL_AT_ONCE"}), 1) == [1.0]
    canary = {"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}
    assert shares(policy(canary), 4) == [0.25, 1.0]
    linear = {"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30}}
    assert shares(policy(linear), 1) == pytest.approx([0.3, 0.6, 0.9, 1.0])


def test_a_scoring_failure_with_one_column_too_many_names_skip_first_column():
    from local_runner.score_command import failure_hint

    cause = "TransformFailed: row 1 has 31 columns; the model expects 30 features (features only, no label column)"
    hint = failure_hint("TransformFailed", cause, skip_first_column=False, data="rows.csv")
    assert hint == (
        "The first column looks like a label or an id: score without it with --skip-first-column "
        '(make score SCORE_ARGS="--data rows.csv --skip-first-column")'
    )
    assert failure_hint("TransformFailed", cause, skip_first_column=True, data="rows.csv") is None
    assert failure_hint("NoApprovedModel", "none", skip_first_column=False, data=None) == (
        "Register an approved model first: make run"
    )


@pytest.mark.parametrize(
    ("cause", "hint"),
    [
        (
            "TrainFailed: objective binary:logistic needs 2 classes, the labels have 3; use objective=multi:softprob",
            'To apply it: --hyperparameter objective=multi:softprob (in make run: RUN_ARGS="... --hyperparameter '
            'objective=multi:softprob")',
        ),
        ("ProcessFailed: every row has an empty label (first column)", None),
    ],
)
def test_a_failure_that_names_a_hyperparameter_fix_shows_the_flag_that_applies_it(cause, hint):
    from local_runner.cli import hyperparameter_hint

    assert hyperparameter_hint(cause) == hint
