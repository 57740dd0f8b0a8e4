"""Scale-out benchmark: the training container on 1 host against 2 hosts, and xgboost in memory against out of core.

    .venv/bin/python bench/scale.py [--rows 400000] [--memory-rows 1000000,5000000] [--features 10] [--rounds 20]

1. Distributed xgboost: the same synthetic data (4 CSV objects) trained by one host, then by two hosts through
   XGBoost's collective (ShardedByS3Key: 2 objects each), both as `python -m training_code train` processes
   with their own /opt/ml trees, as the local SageMaker runs them. Wall time of the job, each host's peak RSS
   (its VmHWM, sampled: see RssSampler) and the model's quality on a held-out set.
2. External memory: xgboost with external_memory=false (the channel parsed into memory) against true (an
   iterator over the files, pages cached on disk), at each of --memory-rows: time, peak RSS, quality.
3. Processing: `python -m training_code process --split hash` on 1 instance against 2 instances (the input
   sharded by object): the same train/validation/test membership, row for row.

Figures are printed (and written to bench/results/scale.json); nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def synthetic(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A binary label from a non-linear function of the features, with noise (trees learn it gradually)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features)).astype(np.float32)
    signal = x[:, 0] * x[:, 1] + np.sin(2 * x[:, 2]) + 0.5 * x[:, 3] ** 2 - 0.5 + 0.3 * x[:, 4:].sum(axis=1)
    y = (signal + rng.normal(scale=0.5, size=rows) > 0).astype(np.int8)
    return x, y


def write_objects(directory: Path, x: np.ndarray, y: np.ndarray, objects: int) -> list[Path]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, rows in enumerate(np.array_split(np.arange(len(y)), objects)):
        table = pa.table({"label": y[rows], **{f"f{j}": x[rows, j] for j in range(x.shape[1])}})
        path = directory / f"part-{index}.csv"
        pacsv.write_csv(table, path, pacsv.WriteOptions(include_header=False))
        paths.append(path)
    return paths


def host_tree(base: Path, host: str, hosts: list[str], hps: dict, files: list[Path], distribution: str) -> Path:
    config = base / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
    (config / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv", "S3DistributionType": distribution}})
    )
    channel = base / "input" / "data" / "train"
    channel.mkdir(parents=True, exist_ok=True)
    for path in files:
        (channel / path.name).symlink_to(path)
    return base


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RssSampler:
    """Each host process's peak resident memory, sampled from /proc/<pid>/status.

    VmHWM is the high-water mark of the process's own address space, the one its exec made. The kernel's
    ru_maxrss (from wait4) is not: exec folds the pre-exec address space into it, and a child spawned by this
    benchmark starts as a copy of a process holding millions of rows of test data, so ru_maxrss reported
    this benchmark's own size (805 MiB where the trainer's peak was 523). VmHWM only grows, so a sample every
    10 ms misses at most the last 10 ms. RssAnon and RssFile split the resident memory: file-backed pages
    (shared libraries, files read through mmap) the kernel can drop under pressure; anonymous pages
    (arrays, gradients) the host must hold.
    """

    FIELDS = {"VmHWM": "peak_rss_mib", "RssAnon": "peak_anon_mib", "RssFile": "peak_file_mib"}

    def __init__(self, pids: list[int], interval: float = 0.01):
        self._peaks = {pid: dict.fromkeys(self.FIELDS.values(), 0.0) for pid in pids}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._done.wait(interval):
            for pid, peaks in self._peaks.items():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    key, _, value = line.partition(":")
                    if key in self.FIELDS:
                        peaks[self.FIELDS[key]] = max(peaks[self.FIELDS[key]], int(value.split()[0]) / 1024)

    def peaks(self, pid: int) -> dict:
        return {k: round(v, 1) for k, v in self._peaks[pid].items()}

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def run_hosts(commands: list[tuple[list[str], dict]]) -> tuple[float, list[dict]]:
    """Start every host's process, wait for all; (wall seconds, per host: exit code, peak memory MiB)."""
    started = time.monotonic()
    popens = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for cmd, env in commands
    ]
    sampler = RssSampler([p.pid for p in popens])
    results = {}
    while len(results) < len(popens):
        pid, status, _ = os.wait4(-1, 0)
        results[pid] = {
            "exit": os.waitstatus_to_exitcode(status),
            **sampler.peaks(pid),
        }
    sampler.stop()
    wall = time.monotonic() - started
    for popen in popens:
        popen.returncode = results[popen.pid]["exit"]
        if popen.returncode:
            print(popen.stderr.read().decode(errors="replace")[-2000:], file=sys.stderr)
        popen.stderr.close()
    return round(wall, 2), [results[p.pid] for p in popens]


def environment(base: Path, **extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "SAGEMAKER_BASE_DIR": str(base), **extra}


def quality(base: Path, x: np.ndarray, y: np.ndarray) -> dict:
    from training_code import model_io
    from training_code.task_metrics import score

    model, _ = model_io.load(base / "model")
    scores = score(model, x.astype(np.float64), y, 0)
    return {k: round(scores[k], 4) for k in ("accuracy", "roc_auc") if k in scores}


def train_cmd() -> list[str]:
    return [sys.executable, "-m", "training_code", "train"]


def distributed(work: Path, args, test: tuple[np.ndarray, np.ndarray]) -> dict:
    x, y = synthetic(args.rows, args.features, 1)
    files = write_objects(work / "data", x, y, 4)
    del x, y
    hps = {"algorithm": "xgboost", "objective": "binary:logistic", "num_round": str(args.rounds), "max_depth": "6"}
    figures = {}
    one = host_tree(work / "one", "algo-1", ["algo-1"], hps, files, "FullyReplicated")
    cpus = str(args.cpus_per_host)
    wall, hosts = run_hosts([(train_cmd(), environment(one, SM_NUM_CPUS=cpus))])
    figures["1 host"] = {"wall_s": wall, "hosts": hosts, **quality(one, *test)}
    names = ["algo-1", "algo-2"]
    bases = [
        host_tree(work / host, host, names, hps, files[index * 2 : index * 2 + 2], "ShardedByS3Key")
        for index, host in enumerate(names)
    ]
    addresses = json.dumps(dict.fromkeys(names, f"127.0.0.1:{free_port()}"))
    wall, hosts = run_hosts(
        [(train_cmd(), environment(b, SM_NUM_CPUS=cpus, TRAINING_HOST_ADDRESSES=addresses)) for b in bases]
    )
    figures["2 hosts"] = {"wall_s": wall, "hosts": hosts, **quality(bases[0], *test)}
    return figures


def out_of_core(work: Path, args, test: tuple[np.ndarray, np.ndarray]) -> dict:
    figures = {}
    for rows in args.memory_rows:
        x, y = synthetic(rows, args.features, 2)
        files = write_objects(work / f"data-{rows}", x, y, 4)
        del x, y
        size = sum(p.stat().st_size for p in files) / (1 << 20)
        for mode in ("false", "true"):
            hps = {
                "algorithm": "xgboost",
                "objective": "binary:logistic",
                "num_round": str(args.rounds),
                "max_depth": "6",
                "external_memory": mode,
            }
            base = host_tree(work / f"mem-{rows}-{mode}", "algo-1", ["algo-1"], hps, files, "FullyReplicated")
            wall, hosts = run_hosts([(train_cmd(), environment(base, SM_NUM_CPUS=str(args.cpus_per_host)))])
            label = f"{rows} rows ({size:.0f} MiB CSV), {'out of core' if mode == 'true' else 'in memory'}"
            figures[label] = {
                "wall_s": wall,
                "peak_rss_mib": hosts[0]["peak_rss_mib"],
                "peak_anon_mib": hosts[0]["peak_anon_mib"],
                "peak_file_mib": hosts[0]["peak_file_mib"],
                "exit": hosts[0]["exit"],
                **(quality(base, *test) if hosts[0]["exit"] == 0 else {}),
            }
            print(f"  {label}: {figures[label]}", flush=True)
    return figures


def processing(work: Path, args) -> dict:
    """1 against 2 processing instances over the same 4 objects: the splits' rows, compared as sets."""
    x, y = synthetic(args.processing_rows, args.features, 3)
    files = write_objects(work / "raw", x, y, 4)
    runs = {}
    for count in (1, 2):
        names = [f"algo-{i}" for i in range(1, count + 1)]
        commands, bases = [], []
        addresses = json.dumps(dict.fromkeys(names, f"127.0.0.1:{free_port()}"))
        for index, host in enumerate(names):
            base = work / f"process-{count}" / host
            (base / "config").mkdir(parents=True, exist_ok=True)
            (base / "config" / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": names}))
            # the request SageMaker hands a processing container: this input is sharded by object
            input_spec = {"LocalPath": "/opt/ml/processing/input", "S3DataDistributionType": "ShardedByS3Key"}
            (base / "config" / "processingjobconfig.json").write_text(
                json.dumps({"ProcessingInputs": [{"InputName": "raw", "S3Input": input_spec}]})
            )
            raw = base / "processing" / "input"
            raw.mkdir(parents=True, exist_ok=True)
            for path in files[index::count]:
                (raw / path.name).symlink_to(path)
            cmd = [sys.executable, "-m", "training_code", "process", "--split", "hash", "--impute", "mean"]
            commands.append((cmd, environment(base, TRAINING_HOST_ADDRESSES=addresses)))
            bases.append(base)
        wall, hosts = run_hosts(commands)
        splits = {}
        for name in ("train", "validation", "test"):
            rows = set()
            for base in bases:
                for path in sorted((base / "processing" / name).glob("*.csv")):
                    rows.update(path.read_text().splitlines())
            splits[name] = rows
        baseline = json.loads((bases[0] / "processing" / "baseline" / "statistics.json").read_text())
        runs[count] = {"wall_s": wall, "hosts": hosts, "splits": splits, "baseline": baseline}
    same = {name: runs[1]["splits"][name] == runs[2]["splits"][name] for name in ("train", "validation", "test")}
    feature = lambda run: {k: run["baseline"]["features"][0][k] for k in ("count", "mean", "std", "p50")}  # noqa: E731
    return {
        "rows per split (1 instance)": {k: len(v) for k, v in runs[1]["splits"].items()},
        "same rows in each split (1 vs 2 instances)": same,
        "wall_s": {"1 instance": runs[1]["wall_s"], "2 instances": runs[2]["wall_s"]},
        "baseline feature 1 (1 vs 2 instances)": [feature(runs[1]), feature(runs[2])],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000, help="rows for 1 host against 2 hosts")
    parser.add_argument("--memory-rows", default="1000000,5000000", help="row counts for in memory vs out of core")
    parser.add_argument("--processing-rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cpus-per-host", type=int, default=1, help="SM_NUM_CPUS of each host (xgboost threads)")
    parser.add_argument("--parts", default="distributed,memory,processing")
    args = parser.parse_args()
    args.memory_rows = [int(v) for v in args.memory_rows.split(",") if v]
    parts = set(args.parts.split(","))
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        test = synthetic(50_000, args.features, 99)
        if "distributed" in parts:
            print(
                f"1 host against 2 hosts, {args.rows} rows x {args.features} features, {args.rounds} rounds", flush=True
            )
            results["distributed"] = distributed(work, args, test)
            for label, figures in results["distributed"].items():
                print(f"  {label}: {figures}", flush=True)
        if "memory" in parts:
            print(f"xgboost in memory against out of core, {args.features} features, {args.rounds} rounds", flush=True)
            results["memory"] = out_of_core(work, args, test)
        if "processing" in parts:
            print(f"processing on 1 against 2 instances, {args.processing_rows} rows", flush=True)
            results["processing"] = processing(work, args)
            for label, figures in results["processing"].items():
                print(f"  {label}: {figures}", flush=True)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps({"args": vars(args), "results": results}, indent=2, default=str))
    print(f"written to {out / 'scale.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
