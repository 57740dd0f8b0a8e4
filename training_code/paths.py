"""Where things live: ``/opt/ml`` or ``$SAGEMAKER_BASE_DIR``, with the toolkit's ``SM_*`` overrides (stdlib only)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def base_dir() -> Path:
    return Path(os.environ.get("SAGEMAKER_BASE_DIR") or "/opt/ml")


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value) if value else default


@dataclass(frozen=True)
class TrainingPaths:
    base: Path
    config_dir: Path
    data_dir: Path
    model_dir: Path
    output_dir: Path
    output_data_dir: Path
    checkpoint_dir: Path

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    def channel_dir(self, channel: str) -> Path:
        return _env_path(f"SM_CHANNEL_{channel.upper()}", self.data_dir / channel)

    def input_data_config(self) -> dict:
        return _read_json(self.config_dir / "inputdataconfig.json", "SM_INPUT_DATA_CONFIG")


def training_paths() -> TrainingPaths:
    base = base_dir()
    output = _env_path("SM_OUTPUT_DIR", base / "output")
    return TrainingPaths(
        base=base,
        config_dir=_env_path("SM_INPUT_CONFIG_DIR", base / "input" / "config"),
        data_dir=_env_path("SM_INPUT_DATA_DIR", base / "input" / "data"),
        model_dir=_env_path("SM_MODEL_DIR", base / "model"),
        output_dir=output,
        output_data_dir=_env_path("SM_OUTPUT_DATA_DIR", output / "data"),
        checkpoint_dir=_env_path("SM_CHECKPOINT_DIR", base / "checkpoints"),
    )


def processing_dir(name: str) -> Path:
    """``{base}/processing/<name>`` (input, train, validation, test, baseline, model, evaluation)."""
    return base_dir() / "processing" / name


def model_dir() -> Path:
    return _env_path("SM_MODEL_DIR", base_dir() / "model")


def num_cpus() -> int:
    value = os.environ.get("SM_NUM_CPUS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def _read_json(path: Path, env_name: str) -> dict:
    """A JSON object from ``$env_name`` or ``path`` ({} when neither exists); anything else is a UserError."""

    raw = os.environ.get(env_name)
    source = env_name
    if not raw and path.is_file():
        raw, source = path.read_text(encoding="utf-8"), str(path)
    if not raw:
        return {}
    return json_object(raw, source, "a JSON object of channel names to their configuration")


def json_object(raw: str, source: str, expected: str) -> dict:
    """`raw` parsed as a JSON object; invalid JSON or another type is a UserError naming `source` and `expected`."""
    from .errors import UserError

    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise UserError(f"{source} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        raise UserError(f"{source} must be {expected}; got {kind}")
    return value
