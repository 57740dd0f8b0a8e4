"""/invocations and friends through the RSGI app in-process: formats, shapes, every client error."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from conftest import call_app, csv_rows, make_app, setup_job, split, train_model


@pytest.fixture(scope="module")
def app(classifier_dir):
    return make_app(classifier_dir, max_payload=1024 * 1024)


@pytest.fixture(scope="module")
def rows():
    _, (x, _) = split("breast_cancer")
    return x


def test_ping_and_execution_parameters(app):
    assert call_app(app, "/ping", method="GET", content_type=None)[0] == 200
    status, body = call_app(app, "/execution-parameters", method="GET", content_type=None)
    assert status == 200 and orjson.loads(body)["MaxPayloadInMB"] == 1


def test_csv_many_rows(app, rows):
    status, body = call_app(app, body=csv_rows(rows[:100]), accept="text/csv")
    assert status == 200
    labels = body.decode().split("\n")[:-1]
    assert len(labels) == 100 and set(labels) <= {"0", "1"}


def test_json_instances_and_features_forms_agree(app, rows):
    a = call_app(app, body=orjson.dumps({"instances": rows[:3].tolist()}), content_type="application/json",
                 accept="application/json")
    b = call_app(app, body=orjson.dumps({"instances": [{"features": r} for r in rows[:3].tolist()]}),
                 content_type="application/json", accept="application/json")
    c = call_app(app, body=orjson.dumps({"features": rows[0].tolist()}), content_type="application/json",
                 accept="application/json; charset=utf-8")
    assert a[0] == b[0] == c[0] == 200
    predictions = orjson.loads(a[1])["predictions"]
    assert predictions == orjson.loads(b[1])["predictions"]
    assert orjson.loads(c[1])["predictions"] == predictions[:1]
    assert set(predictions[0]) == {"predicted_label", "score"} and 0 <= predictions[0]["score"] <= 1


def test_fast_path_matches_scikit_learn(classifier_dir, rows):
    from training_code import model_io

    model, _ = model_io.load(classifier_dir)
    fast = model.fast()
    assert fast is not model
    x = np.vstack([rows, rows * 1000])
    np.testing.assert_allclose(fast.predict(x)["scores"], model.predict(x)["scores"], rtol=1e-9, atol=1e-12)


def test_accept_defaults_and_wildcards(app, rows):
    body = csv_rows(rows[:2])
    assert call_app(app, body=body)[1].count(b"\n") == 2  # no Accept: answer in the request's type
    assert call_app(app, body=body, accept="*/*")[0] == 200
    status, out = call_app(app, body=body, accept="application/xml, application/json;q=0.9")
    assert status == 200 and out.startswith(b"{")


@pytest.mark.parametrize(("body", "content_type", "accept", "status", "message"), [
    (b"1,2,3\n", "text/csv", None, 400, "row 1 has 3 columns; the model expects 30 features"),
    (b"", "text/csv", None, 400, "empty request body"),
    (b"{not json", "application/json", None, 400, "malformed JSON"),
    (b'{"rows": []}', "application/json", None, 400, 'JSON must be {"instances"'),
    (b'{"instances": []}', "application/json", None, 400, 'JSON "instances" must be a non-empty list'),
    (b'{"instances": [[1, "a"]]}', "application/json", None, 400, 'row 1, column 2: "a" is not a number'),
    (b"1,2", "text/plain", None, 415, "unsupported Content-Type 'text/plain'"),
    (b"1,2", None, None, 415, "unsupported Content-Type '(none)'"),
    (b"1,2", "text/csv", "application/xml", 406, "unsupported Accept 'application/xml'"),
])
def test_client_errors(app, body, content_type, accept, status, message):
    got_status, got = call_app(app, body=body, content_type=content_type, accept=accept)
    assert got_status == status
    assert got.decode().startswith(message), got


def test_bad_cell_names_row_and_column(app, rows):
    lines = csv_rows(rows[:3]).decode().splitlines()
    cells = lines[1].split(",")
    cells[4] = "abc"
    lines[1] = ",".join(cells)
    status, body = call_app(app, body="\n".join(lines).encode())
    assert status == 400 and body.decode().startswith("row 2, column 5: 'abc' is not a number")


def test_missing_and_infinite_values(app, rows):
    row = rows[0].tolist()
    body = ",".join(["", *map(repr, row[1:])]).encode()
    status, out = call_app(app, body=body)
    assert status == 400 and out.decode().startswith("row 1, column 1: value is missing")
    row[2] = float("inf")
    status, out = call_app(app, body=",".join(map(repr, row)).encode())
    assert status == 400 and "column 3" in out.decode()


def test_payload_limit(app, rows):
    big = csv_rows(np.repeat(rows[:1], 6000, axis=0))
    assert len(big) > 1024 * 1024
    status, out = call_app(app, body=big)
    assert status == 413 and out.decode().startswith("payload over the 1 MB limit")
    status, _ = call_app(app, body=big, content_length=False)  # chunked upload, no Content-Length
    assert status == 413


def test_routes_and_methods(app):
    assert call_app(app, "/nope", method="GET")[0] == 404
    assert call_app(app, "/invocations", method="GET")[0] == 405


def test_model_trained_with_missing_values_accepts_them(tmp_path, rows):
    from training_code import train

    base = tmp_path / "ml"
    (base / "input" / "config").mkdir(parents=True)
    setup_job(base, "logistic-regression", "breast_cancer")
    path = base / "input" / "data" / "train" / "train.csv"
    lines = path.read_text().splitlines()
    cells = lines[0].split(",")
    cells[3] = ""
    lines[0] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SAGEMAKER_BASE_DIR", str(base))
        assert train.run() == 0
    app = make_app(base / "model")
    body = ",".join(["", *map(repr, rows[0].tolist()[1:])]).encode()
    status, out = call_app(app, body=body, accept="text/csv")
    assert status == 200 and out.strip() in (b"0", b"1")


@pytest.mark.parametrize(("algorithm", "data", "key", "fields"), [
    ("kmeans", "iris", "predictions", {"closest_cluster", "distance_to_cluster"}),
    ("pca", "wine", "projections", {"projection"}),
    ("isolation-forest", "breast_cancer", "scores", {"score"}),
    ("ridge", "diabetes", "predictions", {"score"}),
    ("knn", "iris", "predictions", {"predicted_label", "score"}),
])
def test_builtin_response_shapes(tmp_path, algorithm, data, key, fields):
    hps = {"k": "3"} if algorithm == "kmeans" else {}
    model_dir = train_model(tmp_path / "ml", algorithm, data, hps)
    _, (x, _) = split(data)
    status, out = call_app(make_app(model_dir), body=csv_rows(x[:4]), accept="application/json")
    assert status == 200
    records = orjson.loads(out)[key]
    assert len(records) == 4 and set(records[0]) == fields
    status, out = call_app(make_app(model_dir), body=csv_rows(x[:4]), accept="text/csv")
    assert status == 200 and len(out.decode().splitlines()) == 4


def test_large_request_bounded_by_server_timeout(classifier_dir, rows):
    from training_code.predictor import Predictor
    from training_code.serving import THREAD_ROWS, App

    slow = App(Predictor(classifier_dir), max_payload=64 * 1024 * 1024, timeout=1e-6, workers=1)
    body = csv_rows(np.repeat(rows[:1], THREAD_ROWS + 10, axis=0))
    status, out = call_app(slow, body=body)
    assert status == 504 and out.decode().startswith("inference exceeded SAGEMAKER_MODEL_SERVER_TIMEOUT")
    fast = App(Predictor(classifier_dir), max_payload=64 * 1024 * 1024, timeout=60, workers=1)
    status, out = call_app(fast, body=body, accept="text/csv")
    assert status == 200 and len(out.split()) == THREAD_ROWS + 10
