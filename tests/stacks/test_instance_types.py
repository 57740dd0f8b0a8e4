"""The instance-type checks read botocore's SageMaker model: once per process, whatever kinds are checked."""

from __future__ import annotations

import botocore.session
import pytest

from stacks.config import instance_types


def test_checking_every_kind_loads_the_service_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    load = botocore.session.Session.get_service_model

    def counting(self, service_name, *args, **kwargs):
        loads.append(service_name)
        return load(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "get_service_model", counting)
    for name in ("_enum", "_service_model"):  # start cold, as a fresh `cdk synth` does
        cached = getattr(instance_types, name, None)
        if cached is not None:
            cached.cache_clear()
    instance_types.check_training("ml.m5.large")
    instance_types.check_processing("ml.m5.large")
    instance_types.check_endpoint("ml.m5.large")
    instance_types.check_transform("ml.m5.large")
    instance_types.check_notebook("ml.t3.medium")
    assert loads == ["sagemaker"]
