"""Reading a run folder's predictions (``predictions.jsonl``): what every reader of a run starts from."""

from __future__ import annotations

from pathlib import Path

from robostress.benchmark.load import read_records
from robostress.errors import DataError
from robostress.scoring.prediction import Prediction


def load_predictions(path: Path) -> list[Prediction]:
    """Predictions of a run; a torn last line (killed mid-write) is dropped and truncated away. DataError (file and line) for an unknown schema_version, an invalid record
    or a second prediction of the same item."""
    if not path.exists():
        return []
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror}") from None
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        try:
            with open(path, "r+b") as f:
                f.truncate(cut)
        except OSError as e:
            raise DataError(f"cannot repair the torn last line of {path}: {e.strerror}") from None
    return read_records(path, Prediction, "item_id", noun="prediction", duplicate="a second prediction of item {!r}")
