"""XGBoost from an external-memory iterator: the channel's batches quantised into pages cached on disk.

``xgboost.DataIter`` hands xgboost one batch at a time (streaming.batches); ``ExtMemQuantileDMatrix`` bins each
into a page and keeps the pages in ``cache_dir``, so a host's peak memory follows the batch size, not the
number of rows. Labels are encoded on the way in (the classes come from streaming.scan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import xgboost as xgb

from . import streaming


class ChannelIter(xgb.DataIter):
    def __init__(self, source: tuple, encode: Callable, cache_dir: Path):
        self._source = source
        self._encode = encode
        self._batches: Iterator[streaming.Batch] | None = None
        self.batches_read = 0
        super().__init__(cache_prefix=str(cache_dir / "train"), release_data=True)

    def reset(self) -> None:
        self._batches = None

    def next(self, input_data: Callable) -> bool:
        if self._batches is None:
            self._batches = streaming.batches(*self._source)
        batch = next(self._batches, None)
        if batch is None:
            return False
        input_data(data=batch.features, label=self._encode(batch.labels))
        self.batches_read += 1
        return True


def dmatrix(source: tuple, encode: Callable, cache_dir: Path, nthread: int) -> xgb.DMatrix:
    """The channel (streaming.Scan.source) as xgboost's external-memory matrix, pages cached in `cache_dir`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    return xgb.ExtMemQuantileDMatrix(ChannelIter(source, encode, cache_dir), missing=np.nan, nthread=nthread)
