"""The loaded model as the server uses it: decode -> predict -> encode, with sklearn's checks done once."""

from __future__ import annotations

from pathlib import Path

from . import codecs, model_io


def _plain(value):
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, float) and item.is_integer():
        return int(item)
    return item


class Predictor:
    def __init__(self, model_dir: Path):
        self.model, self.metadata = model_io.load(model_dir)
        self.model = self.model.fast()
        self.task = self.model.task
        self.n_features = int(self.metadata.get("feature_count") or self.model.n_features)
        self.accepts_missing = bool(self.model.accepts_missing)
        classes = self.model.classes
        self.labels = None if classes is None else [_plain(c) for c in classes]

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        features = codecs.decode(body, content_type, self.n_features, self.accepts_missing)
        out = self.model.predict(features)
        codecs.check_finite(out)
        return codecs.encode(out, self.task, accept, self.labels)

    def rows_hint(self, body: bytes, content_type: str) -> int:
        return body.count(b"\n") + 1 if content_type == codecs.CSV else body.count(b"[")
