"""Parse and validate hyperparameters (every value arrives as a string) against the catalog (stdlib only)."""

from __future__ import annotations

import json
import math

from .catalog import ALGORITHMS
from .errors import UserError

#: Names SageMaker or its SDKs add on their own; never an error.
_PASSTHROUGH_PREFIXES = ("_", "sagemaker_")


def _unquote(value) -> str:
    text = str(value).strip()
    # The SageMaker Python SDK JSON-encodes values: "\"kmeans\"" -> kmeans.
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json.loads(text)
            if isinstance(decoded, str):
                return decoded.strip()
        except ValueError:
            pass
    return text


def _bound_text(spec: dict, upper: bool = True) -> str:
    lo, hi = spec.get("min"), spec.get("max")
    low = f"> {lo}" if spec.get("min_exclusive") and lo is not None else f">= {lo}" if lo is not None else ""
    if hi is not None and upper:
        return f"{low} and <= {hi}" if low else f"<= {hi}"
    return low


def _convert(spec: dict, raw: str):
    name, kind = spec["name"], spec["type"]
    if kind == "categorical":
        value = raw.lower() if raw.lower() in ("true", "false") else raw
        if value not in spec["choices"]:
            raise UserError(f"hyperparameter {name} must be one of {', '.join(spec['choices'])}, got {raw!r}")
        return value
    try:
        if kind == "integer":
            number = float(raw)
            if not number.is_integer():
                raise ValueError
            value = int(number)
        else:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError
    except (ValueError, OverflowError):
        noun = "an integer" if kind == "integer" else "a number"
        raise UserError(f"hyperparameter {name} must be {noun} {_bound_text(spec, upper=False)}, got {raw!r}") \
            from None
    lo, hi = spec.get("min"), spec.get("max")
    too_low = lo is not None and (value < lo or (spec.get("min_exclusive") and value <= lo))
    if too_low or (hi is not None and value > hi):
        noun = "an integer" if kind == "integer" else "a number"
        raise UserError(f"hyperparameter {name} must be {noun} {_bound_text(spec)}, got {raw!r}")
    return value


def parse(raw: dict) -> tuple[str, dict]:
    """Return ``(algorithm, typed hyperparameters with defaults filled in)`` or raise UserError."""
    values = {str(k): _unquote(v) for k, v in (raw or {}).items()}
    algorithm = values.pop("algorithm", "")
    if not algorithm:
        raise UserError("hyperparameter algorithm is required; set it to one of: " + ", ".join(ALGORITHMS))
    if algorithm not in ALGORITHMS:
        raise UserError(f"unknown algorithm {algorithm!r}; known: {', '.join(ALGORITHMS)}")
    specs = ALGORITHMS[algorithm]["hyperparameters"]
    typed = {}
    unknown = []
    for name, text in values.items():
        if name.startswith(_PASSTHROUGH_PREFIXES):
            continue
        if name not in specs:
            unknown.append(name)
            continue
        typed[name] = _convert(specs[name], text)
    if unknown:
        raise UserError(
            f"unknown hyperparameter {', '.join(sorted(unknown))} for algorithm {algorithm!r}; "
            f"known: algorithm, {', '.join(specs)}"
        )
    for name, spec in specs.items():
        typed.setdefault(name, spec["default"])
    return algorithm, typed


def flag(value) -> bool:
    """A categorical "true"/"false" hyperparameter as bool."""
    return str(value).lower() == "true"
