"""`traffic` and `monitor`: their options, and how traffic shifts the chosen features."""

from __future__ import annotations

import pytest

from local_runner import cli
from local_runner.monitoring import DEFAULT_ROWS, drifted
from local_runner.template import TemplateError


def test_traffic_takes_repeatable_drifts_by_feature_position() -> None:
    args = cli.parser().parse_args(["traffic", "--drift", "1=3", "--drift", "4=0.5"])
    assert args.drift == [(0, 3.0), (3, 0.5)] and args.rows == DEFAULT_ROWS and args.env == "prod"
    assert cli.parser().parse_args(["monitor"]).env == "prod"


@pytest.mark.parametrize(
    ("value", "message"),
    [("x=3", "use FEATURE=FACTOR, the feature's 1-based position"), ("0=2", "features are numbered from 1")],
)
def test_a_bad_drift_names_the_fix(value: str, message: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(["traffic", "--drift", value])
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_drifted_rows_multiply_only_the_chosen_features() -> None:
    assert drifted([["1", "2", "3"], ["4", "5", "6"]], [(0, 3.0), (2, 0.5)]) == [
        ["3.0", "2", "1.5"],
        ["12.0", "5", "3.0"],
    ]
    with pytest.raises(TemplateError, match=r"--drift 5=\.\.\.: the rows have 3 features"):
        drifted([["1", "2", "3"]], [(4, 2.0)])
