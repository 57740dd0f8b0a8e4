"""Issue 12, local runner: SageMaker state reaches the disk as resources are created, atomically.

Before, the store was written only when the runner exited cleanly: a kill -9 lost every record, so `stop`
found no endpoint while its server kept listening.
"""

from __future__ import annotations

import json
import threading

from local_runner.sagemaker.store import Store


def test_every_change_is_on_disk_before_the_call_returns(tmp_path):
    path = tmp_path / "sagemaker" / "state.json"
    store = Store(path)
    store.put("endpoints", "ep", {"EndpointName": "ep", "EndpointStatus": "Creating"})
    # a second process (here: a second Store) reads what the first one holds, without any save()
    assert Store(path).get("endpoints", "ep")["EndpointStatus"] == "Creating"

    store.update("endpoints", "ep", EndpointStatus="InService", local={"pid": 4242, "port": 8080})
    assert Store(path).get("endpoints", "ep")["local"] == {"pid": 4242, "port": 8080}

    store.delete("endpoints", "ep")
    assert Store(path).get("endpoints", "ep") is None


def test_concurrent_writers_leave_one_complete_document_and_no_temporary_files(tmp_path):
    path = tmp_path / "state.json"
    store = Store(path)

    def writer(index: int) -> None:
        for step in range(25):
            store.put("training_jobs", f"job-{index}", {"TrainingJobName": f"job-{index}", "Step": step})

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    document = json.loads(path.read_text())  # a torn write would not parse
    assert {name: record["Step"] for name, record in document["training_jobs"].items()} == {
        f"job-{i}": 24 for i in range(4)
    }
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_a_store_without_a_path_stays_in_memory(tmp_path):
    store = Store(None)
    store.put("models", "m", {"ModelName": "m"})
    assert store.get("models", "m") == {"ModelName": "m"}
    assert list(tmp_path.iterdir()) == []
