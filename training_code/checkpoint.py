"""Checkpoints for iterative training (spot interruption) and the SIGTERM handler.

A checkpoint is the pickled Trainer after a completed epoch plus a fingerprint of the job (algorithm,
hyperparameters, data shape); a restarted job with the same fingerprint resumes from the next epoch.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

CHECKPOINT_FILE = "checkpoint.joblib"
INFO_FILE = "checkpoint.json"


class StopFlag:
    """Set by SIGTERM; the training loop checks it after each epoch, saves a checkpoint and stops."""

    def __init__(self):
        self.signal = None

    def __bool__(self):
        return self.signal is not None

    def install(self):
        def handler(signum, frame):
            self.signal = signum
        signal.signal(signal.SIGTERM, handler)
        return self


def fingerprint(algorithm: str, hp: dict, rows: int, cols: int) -> dict:
    return {"algorithm": algorithm, "hyperparameters": hp, "rows": rows, "features": cols}


def save(directory: Path, trainer, epoch: int, rng_state: dict, fp: dict) -> Path:
    import joblib

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CHECKPOINT_FILE
    tmp = directory / f".{CHECKPOINT_FILE}.{os.getpid()}.tmp"
    joblib.dump({"trainer": trainer, "epoch": epoch, "rng": rng_state, "fingerprint": fp}, tmp)
    os.replace(tmp, path)
    info_tmp = directory / f".{INFO_FILE}.tmp"
    info_tmp.write_text(json.dumps({"epoch": epoch, "fingerprint": fp}, default=str))
    os.replace(info_tmp, directory / INFO_FILE)
    return path


def load(directory: Path, fp: dict):
    """The saved state if it belongs to this job, else None (a stale checkpoint is ignored, not an error)."""
    import joblib

    path = directory / CHECKPOINT_FILE
    if not path.is_file():
        return None, "no checkpoint"
    try:
        state = joblib.load(path)
    except Exception as exc:  # a truncated or foreign file must not fail the job
        return None, f"unreadable checkpoint ignored ({type(exc).__name__})"
    if json.dumps(state.get("fingerprint"), default=str, sort_keys=True) != json.dumps(fp, default=str,
                                                                                        sort_keys=True):
        return None, "checkpoint from a different job configuration ignored"
    return state, f"resuming after epoch {state['epoch']}"
