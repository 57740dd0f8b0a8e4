"""What a hostile or careless client sends to /invocations and friends, in-process: never a 5xx, no echo."""

from __future__ import annotations

import orjson
import pytest
from conftest import call_app, csv_rows, make_app, split

# Overflowing rows make numpy warn; the app turns the overflow into a 400 instead.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(scope="module")
def app(classifier_dir):
    return make_app(classifier_dir, max_payload=1024 * 1024)


@pytest.mark.parametrize("depth", [257, 600, 1024, 1025, 5000])
def test_deeply_nested_json_is_a_400(app, depth, caplog):
    for doc in (
        "[" * depth + "]" * depth,
        '{"instances": [' + "[" * depth + "]" * depth + "]}",
        '{"instances": [[' + "[" * depth + "]" * depth + "]]}",
    ):
        status, out = call_app(app, body=doc.encode(), content_type="application/json")
        assert 400 <= status < 500, (depth, status, out[:200])
        assert len(out) < 400
    assert not [r for r in caplog.records if r.exc_info], "client errors log no traceback"


@pytest.mark.parametrize(
    ("path", "method", "allowed"),
    [
        ("/execution-parameters", "POST", "GET"),
        ("/ping", "PUT", "GET"),
        ("/ping", "DELETE", "GET"),
        ("/ping", "POST", "GET"),
        ("/invocations", "GET", "POST"),
        ("/invocations", "DELETE", "POST"),
    ],
)
def test_only_the_methods_sagemaker_uses(app, path, method, allowed):
    status, out = call_app(app, path, method=method)
    assert status == 405, (path, method, status)
    assert out.decode().startswith(f"method {method} not allowed on {path}; use {allowed}")


def test_sagemaker_methods_still_answer(app):
    assert call_app(app, "/ping", method="GET", content_type=None)[0] == 200
    assert call_app(app, "/execution-parameters", method="GET", content_type=None)[0] == 200


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/" + "p" * 60_000, {}, 404),
        ("/invocations", {"content_type": "text/" + "c" * 60_000}, 415),
        ("/invocations", {"accept": "image/" + "a" * 60_000}, 406),
    ],
)
def test_error_bodies_echo_only_a_short_excerpt(app, path, headers, status):
    got, out = call_app(app, path, body=b"1", **{"content_type": "text/csv", **headers})
    assert got == status
    assert len(out) < 300, out[:300]


def test_overflowing_rows_are_a_400(app):
    row = ",".join(["1e308"] * 30).encode()
    status, out = call_app(app, body=row, accept="application/json")
    assert status == 400, out
    assert b"overflow" in out and b"row 1" in out


def test_overflow_names_the_first_bad_row(app):
    _, (x, _) = split("breast_cancer")
    body = csv_rows(x[:3]).replace(b"\n", b"\n" + b",".join([b"-1e308"] * 30) + b"\n", 1)
    status, out = call_app(app, body=body, accept="text/csv")
    assert status == 400 and out.decode().startswith("row 2:"), out


def test_large_finite_rows_still_predict(app):
    _, (x, _) = split("breast_cancer")
    status, out = call_app(
        app,
        body=orjson.dumps({"instances": (x[:2] * 1000).tolist()}),
        content_type="application/json",
        accept="application/json",
    )
    assert status == 200 and all(p["score"] is not None for p in orjson.loads(out)["predictions"])


def test_connection_settings_are_validated(monkeypatch):
    from training_code.serving import settings

    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_TIMEOUT", "10")
    assert settings()["body_timeout"] == 5  # the default body deadline stays below a short inference timeout
    monkeypatch.setenv("MODEL_SERVER_BODY_TIMEOUT", "10")
    with pytest.raises(SystemExit, match=r"MODEL_SERVER_BODY_TIMEOUT .* must be below SAGEMAKER_MODEL_SERVER_TIMEOUT"):
        settings()
    monkeypatch.setenv("MODEL_SERVER_GRACE_PERIOD", "soon")
    with pytest.raises(SystemExit, match="MODEL_SERVER_GRACE_PERIOD must be a number"):
        settings()
