"""A torn-down environment can be built again: no retained resource keeps a name the rebuild would reuse.

Retained resources outlive `cdk destroy`. One with a fixed physical name makes the next deploy fail with
"already exists". Offline, "can be rebuilt" means: every retained resource's physical name (a create-only
`...Name` property of its CloudFormation schema, as cfn-lint bundles it) is either generated at deploy
time or changes with `storage.generation`, and every reference follows the new name.
"""

from __future__ import annotations

import re

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from stacks.config import load_config
from tests.conftest import ENVIRONMENTS, SynthesizedApp, synthesize
from tests.stacks.template_policies import Templates


def _name_properties(resource_type: str) -> list[str]:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    tops = [p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.count("/") == 2]
    return [p for p in tops if p.endswith("Name")]


def retained_fixed_names(app: SynthesizedApp) -> dict[str, str]:
    """ "role/logical id/property" -> name, for each retained resource whose name is fixed at synth."""
    t = Templates(app)
    found = {}
    for located in t.resources():
        if located.resource.get("DeletionPolicy") != "Retain":
            continue
        props = t.props(located)
        for prop in _name_properties(located.resource["Type"]):
            name = props.get(prop)
            if isinstance(name, str) and "<" not in name:  # a <token> is resolved per deployment
                found[f"{located.role}/{located.logical_id}/{prop}"] = name
    return found


@pytest.fixture(scope="module")
def next_generation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SynthesizedApp]:
    """Each environment synthesized again as it is rebuilt: the generation after the configured one."""
    rebuilt = {}
    for env in ENVIRONMENTS:
        config = load_config(env)
        storage = config.storage.model_copy(update={"generation": config.storage.generation + 1})
        rebuilt[env] = synthesize(
            env, tmp_path_factory.mktemp(f"rebuilt-{env}"), config.model_copy(update={"storage": storage})
        )
    return rebuilt


def test_a_retained_model_registry_is_found(each_env: SynthesizedApp) -> None:
    assert any("ModelRegistry" in key for key in retained_fixed_names(each_env))


def test_a_rebuild_reuses_no_retained_name(each_env: SynthesizedApp, next_generation: dict) -> None:
    before = retained_fixed_names(each_env)
    after = retained_fixed_names(next_generation[each_env.environment])
    assert after.keys() == before.keys()
    assert set(after.values()).isdisjoint(before.values())


def test_references_follow_the_new_names(each_env: SynthesizedApp, next_generation: dict) -> None:
    """The pipeline's grants and event patterns name the new group, never the retained one."""
    old = {name for name in retained_fixed_names(each_env).values()}
    rebuilt = next_generation[each_env.environment]
    text = " ".join(str(t) for t in rebuilt.templates.values())
    stale = [name for name in old if re.search(rf"{re.escape(name)}(?![-\w])", text)]
    assert stale == []
