"""The legacy SageMaker scikit-learn serving shape: a Flask app under gunicorn sync workers.

Mirrors sagemaker-scikit-learn-container's default handlers: CSV decoded with numpy (``np.genfromtxt``), the
model's ``predict``, CSV/JSON encoded back. Run: ``gunicorn -k sync -w N legacy_flask_app:app``.
"""

from __future__ import annotations

import io
import json
import os

import joblib
import numpy as np
from flask import Flask, Response, request

app = Flask(__name__)
MODEL = joblib.load(os.path.join(os.environ["BENCH_MODEL_DIR"], "pipeline.joblib"))


@app.route("/ping", methods=["GET"])
def ping():
    return Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    content_type = (request.content_type or "").split(";")[0]
    if content_type == "text/csv":
        data = np.genfromtxt(io.StringIO(request.get_data(as_text=True)), delimiter=",", dtype=np.float64)
    elif content_type == "application/json":
        data = np.array(json.loads(request.get_data())["instances"], dtype=np.float64)
    else:
        return Response(f"unsupported content type {content_type}", status=415)
    prediction = MODEL.predict(data.reshape(-1, MODEL.n_features_in_))
    if "application/json" in (request.headers.get("Accept") or ""):
        return Response(json.dumps({"predictions": prediction.tolist()}), mimetype="application/json")
    out = io.StringIO()
    np.savetxt(out, prediction, delimiter=",", fmt="%g")
    return Response(out.getvalue(), mimetype="text/csv")
