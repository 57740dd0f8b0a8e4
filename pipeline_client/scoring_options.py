"""Batch scoring's options: checked here, before anything is uploaded or started, then turned into the scoring
state machine's input. The PrepareScoring Lambda checks them again with the environment's allowed lists
(lambdas/prepare_run/run_planning/scoring_plan.py)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from stacks.contract import MAX_SCORING_INSTANCES

from .errors import OptionError
from .options import reject_unknown

_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$")


@dataclass(frozen=True, kw_only=True)
class ScoringOptions:
    """What a scoring run may ask for; None keeps the environment's default (`batch_transform`)."""

    model_package_arn: str | None = None  # None: the newest Approved version of the pipeline's model group
    skip_first_column: bool = False
    join_input: bool = True
    instance_type: str | None = None
    instance_count: int | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> ScoringOptions:
        reject_unknown(options, [f.name for f in fields(cls)], kind="scoring options")
        parsed = cls(**options)
        parsed.check()
        return parsed

    def check(self) -> None:
        arn = self.model_package_arn
        if arn is not None and (not isinstance(arn, str) or not _PACKAGE_ARN.match(arn)):
            raise OptionError(
                f"model_package_arn={arn!r}: not a model package version; give "
                "arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION (a run's "
                "result.output['model_package_arn']), or leave it out to score with the newest Approved version"
            )
        for name in ("skip_first_column", "join_input"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise OptionError(f"{name}={value!r}: expected True or False")
        if self.instance_type is not None:
            allowed = transform_instance_types()
            if self.instance_type not in allowed:
                close = difflib.get_close_matches(str(self.instance_type), allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise OptionError(
                    f"instance_type={self.instance_type!r} is not a SageMaker transform instance type: {hint}leave "
                    "it out for the environment's default, or pick one of allowed_instance_types.transform in "
                    "config/<env>.json"
                )
        count = self.instance_count
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SCORING_INSTANCES
        ):
            raise OptionError(f"instance_count={count!r}: expected a whole number from 1 to {MAX_SCORING_INSTANCES}")

    def to_input(self, data_uri: str) -> dict[str, Any]:
        """The scoring state machine's input (docs/pipeline.md, batch scoring); None options are left out."""
        payload: dict[str, Any] = {
            "data": data_uri,
            "skip_first_column": self.skip_first_column,
            "join_input": self.join_input,
        }
        for name in ("model_package_arn", "instance_type", "instance_count"):
            if getattr(self, name) is not None:
                payload[name] = getattr(self, name)
        return payload


@cache
def transform_instance_types() -> list[str]:
    """Every instance type CreateTransformJob takes, from botocore's SageMaker service model (no API call)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return list(model.shape_for("TransformInstanceType").enum)
