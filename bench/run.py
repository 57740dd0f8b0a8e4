"""Serving benchmark: the same model (StandardScaler + LogisticRegression on breast_cancer) from three servers.

    /work/main/.venv/bin/python bench/run.py [--duration 10] [--servers ours,flask,mlflow]

Servers, each on loopback with one worker per CPU:
  ours    python -m training_code serve (Granian, RSGI)
  flask   the legacy SageMaker scikit-learn shape: Flask under gunicorn sync workers (bench/legacy_flask_app.py)
  mlflow  mlflow models serve (FastAPI on uvicorn)
Load: wrk (Debian package `wrk`), single-row and 100-row CSV at 4 and 16 connections (MLflow's CSV format needs
a header line, so its bodies carry one). Reports requests/s, p50/p99 latency, errors (non-2xx + socket errors)
and the server's CPU use (all its processes, in % of one core); with --repeat N, medians of N interleaved rounds.
Reference servers live in bench/.venv (created here from bench/requirements.txt). Results:
bench/results/results.json and results.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
RESULTS = BENCH / "results"
WORK = RESULTS / "work"
CPUS = len(os.sched_getaffinity(0))
TICK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_venv() -> None:
    requirements = BENCH / "requirements.txt"
    stamp = VENV / ".requirements.sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return
    log(f"creating {VENV} from {requirements}")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "-r", str(requirements)], check=True)
    stamp.write_text(digest)


def prepare_model() -> dict:
    """Train with our own entry point, then export the fitted pipeline for the other two servers."""
    import joblib
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.pipeline import make_pipeline

    from training_code import model_io

    shutil.rmtree(WORK, ignore_errors=True)
    base = WORK / "ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "data" / "train").mkdir(parents=True)
    x, y = load_breast_cancer(return_X_y=True)
    np.savetxt(base / "input" / "data" / "train" / "train.csv", np.column_stack([y, x]), delimiter=",", fmt="%.10g")
    (base / "input" / "config" / "hyperparameters.json").write_text(
        json.dumps({"algorithm": "logistic-regression", "standardize": "true"}))
    env = {**os.environ, "SAGEMAKER_BASE_DIR": str(base)}
    subprocess.run([sys.executable, "-m", "training_code", "train"], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    model, _ = model_io.load(base / "model")
    pipeline = make_pipeline(*model.steps, model.estimator)  # StandardScaler + LogisticRegression
    joblib.dump(pipeline, WORK / "pipeline.joblib")
    subprocess.run([str(VENV / "bin" / "python"), str(BENCH / "save_mlflow_model.py"), str(WORK / "pipeline.joblib"),
                    str(WORK / "mlflow_model")], check=True, stdout=subprocess.DEVNULL)
    rows = lambda n: "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in x[:n])  # noqa: E731
    header = ",".join(f"f{i}" for i in range(x.shape[1])) + "\n"
    return {"base": base, "x": x, "csv": {1: rows(1), 100: rows(100)}, "header": header,
            "expected": pipeline.predict(x[:100]).astype(int).tolist()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, model: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if name == "ours":
        env.update(SAGEMAKER_BASE_DIR=str(model["base"]), SAGEMAKER_BIND_HOST="127.0.0.1",
                   SAGEMAKER_BIND_TO_PORT=str(port), SAGEMAKER_MODEL_SERVER_WORKERS=str(CPUS))
        command = [sys.executable, "-m", "training_code", "serve"]
    elif name == "flask":
        env.update(BENCH_MODEL_DIR=str(WORK))
        command = [str(VENV / "bin" / "gunicorn"), "-k", "sync", "-w", str(CPUS), "-b", f"127.0.0.1:{port}",
                   "--chdir", str(BENCH), "--log-level", "warning", "legacy_flask_app:app"]
    elif name == "mlflow":
        env.update(PATH=f"{VENV / 'bin'}:{env['PATH']}", MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
        command = [str(VENV / "bin" / "mlflow"), "models", "serve", "-m", str(WORK / "mlflow_model"), "-h",
                   "127.0.0.1", "-p", str(port), "--env-manager", "local", "-w", str(CPUS)]
    else:
        raise SystemExit(f"unknown server {name}")
    logfile = (RESULTS / f"{name}.log").open("w")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=logfile, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited; see {RESULTS / (name + '.log')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            time.sleep(0.25)
    raise SystemExit(f"{name} did not answer /ping within 120 s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def body_for(name: str, model: dict, rows: int) -> str:
    return (model["header"] if name == "mlflow" else "") + model["csv"][rows]


def check(name: str, port: int, model: dict) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body_for(name, model, 100).encode(),
                                     headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    if name == "mlflow":
        got = [int(v) for v in json.loads(text)["predictions"]]
    else:
        got = [int(float(v)) for v in text.split()]
    if got != model["expected"]:
        raise SystemExit(f"{name} predictions differ from the pipeline's")


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its descendants (live ones)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        if current in stats:
            total += int(stats[current][11]) + int(stats[current][12])
        todo.extend(children.get(current, []))
    return total / TICK


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(port: int, body: str, connections: int, duration: int, lua: Path) -> dict:
    lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "text/csv"\n'
                   'wrk.headers["Accept"] = "text/csv"\n' + f"wrk.body = [==[{body}]==]\n")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua),
                          f"http://127.0.0.1:{port}/invocations"], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "p50_ms": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
              "p99_ms": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (after a 2 s warm-up)")
    parser.add_argument("--servers", default="ours,flask,mlflow")
    parser.add_argument("--connections", default="4,16")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds over all servers; the table shows each cell's median")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get update && apt-get install -y wrk")
    sys.path.insert(0, str(REPO))
    RESULTS.mkdir(exist_ok=True)
    ensure_venv()
    model = prepare_model()
    cells: dict[tuple, list] = {}
    # Rounds interleave the servers, so background load on a shared machine falls on all of them alike.
    for round_no in range(args.repeat):
        for name in args.servers.split(","):
            process, port = start(name, model)
            try:
                check(name, port, model)
                for rows in (1, 100):
                    body = body_for(name, model, rows)
                    lua = WORK / f"{name}-{rows}.lua"
                    for connections in map(int, args.connections.split(",")):
                        wrk(port, body, connections, 2, lua)  # warm-up
                        cpu0, t0 = tree_cpu_seconds(process.pid), time.monotonic()
                        run = wrk(port, body, connections, args.duration, lua)
                        run["server_cpu_pct"] = round((tree_cpu_seconds(process.pid) - cpu0)
                                                      / (time.monotonic() - t0) * 100)
                        cells.setdefault((name, rows, connections), []).append(run)
                        log(json.dumps({"round": round_no + 1, "server": name, "rows": rows,
                                        "connections": connections, **run}))
            finally:
                stop(process)
    results = []
    for (name, rows, connections), runs in cells.items():
        result = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        result["errors"] = sum(run["errors"] for run in runs)
        result.update(server=name, rows=rows, connections=connections, runs=runs)
        results.append(result)
    (RESULTS / "results.json").write_text(json.dumps({"cpus": CPUS, "duration_s": args.duration, "repeat": args.repeat,
                                                      "results": results}, indent=2) + "\n")
    lines = [f"{CPUS} CPUs, {CPUS} worker(s) per server, wrk -t2, {args.duration} s per run, median of "
             f"{args.repeat} run(s), loopback.", "",
             "| server | rows/request | connections | requests/s | p50 ms | p99 ms | errors | server CPU % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    names = {"ours": "training_code (Granian)", "flask": "gunicorn sync + Flask", "mlflow": "mlflow models serve"}
    for r in results:
        lines.append(f"| {names[r['server']]} | {r['rows']} | {r['connections']} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {r['server_cpu_pct']:.0f} |")
    table = "\n".join(lines) + "\n"
    (RESULTS / "results.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
