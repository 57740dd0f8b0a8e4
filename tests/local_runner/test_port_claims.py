"""Endpoint ports claimed across processes (local_runner/sagemaker/port_claims.py).

An endpoint's port is picked at CreateEndpoint and bound only when its fleet is healthy. Endpoints of one local
cloud skip each other's recorded ports; a cloud in another process (a second pytest worker, another checkout's
`make up`) could not see them and could pick the same port in between (seen once: a front found its port "in use").
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from local_runner.sagemaker import endpoints, port_claims

REPO_ROOT = Path(__file__).resolve().parents[2]
ONLY = 20000  # the one stable port the tests leave: the kernel's ephemeral range starts right above it


@pytest.fixture
def one_stable_port(tmp_path, monkeypatch) -> Path:
    ephemeral = tmp_path / "ip_local_port_range"
    ephemeral.write_text(f"{ONLY + 1}\t60999\n")
    monkeypatch.setattr(endpoints, "_EPHEMERAL", ephemeral)
    monkeypatch.setattr(port_claims, "CLAIMS", tmp_path / "claims")
    return tmp_path


def _store_recording(path: Path, port: int | None) -> Path:
    endpoints_ = {"other": {"EndpointName": "other", "port": port}} if port else {}
    path.write_text(json.dumps({"endpoints": endpoints_}))
    return path


def _pick_in_another_process(tmp_path: Path, owner: Path) -> int:
    script = f"""
import sys; sys.path.insert(0, {str(REPO_ROOT)!r})
from pathlib import Path
from local_runner.sagemaker import endpoints, port_claims
endpoints._EPHEMERAL = Path({str(tmp_path / "ip_local_port_range")!r})
port_claims.CLAIMS = Path({str(tmp_path / "claims")!r})
print(endpoints.stable_port(owner=Path({str(owner)!r})))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return int(result.stdout)


def test_a_port_another_process_picked_and_recorded_is_not_picked_again(one_stable_port):
    theirs = one_stable_port / "theirs.json"
    assert _pick_in_another_process(one_stable_port, theirs) == ONLY
    _store_recording(theirs, ONLY)  # their CreateEndpoint recorded it; their front is not up yet
    ours = endpoints.stable_port(owner=one_stable_port / "ours.json")
    assert ours != ONLY  # before claims: 20000 again, free to bind, and the later front failed "in use"


def test_a_claim_holds_while_its_process_lives_before_the_port_is_recorded(one_stable_port):
    assert endpoints.stable_port(owner=one_stable_port / "theirs.json") == ONLY  # nothing recorded yet
    assert endpoints.stable_port(owner=one_stable_port / "ours.json") != ONLY


def test_a_claim_whose_store_no_longer_records_the_port_is_taken_over(one_stable_port):
    # the endpoint was deleted by a runner that died first, or `make clean-local` removed the state
    theirs = one_stable_port / "theirs.json"
    assert _pick_in_another_process(one_stable_port, theirs) == ONLY
    _store_recording(theirs, None)
    assert endpoints.stable_port(owner=one_stable_port / "ours.json") == ONLY
    theirs.unlink()
    assert endpoints.stable_port(owner=one_stable_port / "third.json") != ONLY  # ours holds it now


def test_a_released_port_is_free_to_claim_and_only_its_owner_releases_it(one_stable_port):
    ours, theirs = one_stable_port / "ours.json", one_stable_port / "theirs.json"
    assert endpoints.stable_port(owner=ours) == ONLY
    port_claims.release(ONLY, owner=theirs)  # not theirs to release
    assert endpoints.stable_port(owner=theirs) != ONLY
    port_claims.release(ONLY, owner=ours)
    assert endpoints.stable_port(owner=theirs) == ONLY


def test_an_unreadable_claim_is_taken_over_not_an_error(one_stable_port):
    (one_stable_port / "claims").mkdir()
    (one_stable_port / "claims" / str(ONLY)).write_text("{not json")
    assert endpoints.stable_port(owner=one_stable_port / "ours.json") == ONLY


def test_an_in_memory_clouds_claims_end_with_it(one_stable_port):
    # its records go with its store, so nothing would ever release them: claim files piled up under /tmp
    from local_runner import LocalCloud

    with LocalCloud(one_stable_port / "state", persist=False) as cloud:
        hosting = cloud.sagemaker
        port = endpoints.stable_port(owner=hosting._port_owner())
        hosting.store.put("endpoints", "in-memory", {"EndpointName": "in-memory", "port": port})
        assert port_claims.held(port, against="another-cloud")
    assert not (port_claims.CLAIMS / str(port)).exists()


def test_a_persistent_clouds_claims_outlive_it_with_its_endpoints(one_stable_port):
    from local_runner import LocalCloud

    with LocalCloud(one_stable_port / "state", persist=True) as cloud:
        hosting = cloud.sagemaker
        port = endpoints.stable_port(owner=hosting._port_owner())
        hosting.store.put("endpoints", "kept", {"EndpointName": "kept", "port": port})
    assert port_claims.held(port, against="another-cloud")  # its state file still records the endpoint
