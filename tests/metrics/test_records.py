"""The typed Summary: its JSON is byte for byte the summary.json of schema version 3 (goldens
captured from the dict-returning summarize before the records existed), and it reads back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from robostress.errors import DataError
from robostress.metrics import Summary, summarize
from tests.metrics.synthetic import clean_id, reference, synthetic

GOLDEN = Path(__file__).parent / "golden"
CASES: dict[str, Callable[[], Summary]] = {
    "synthetic_with_reference": lambda: summarize(synthetic(), reference=reference(), resamples=200),
    "synthetic_clean_only": lambda: summarize([p for p in synthetic() if p.severity == 0], resamples=200),
    "synthetic_unpaired": lambda: summarize([p for p in synthetic() if p.item_id != clean_id(0)], seed=3,
                                            resamples=200),
}


@pytest.mark.parametrize("name", list(CASES))
def test_to_dict_is_the_golden_summary_json(name: str) -> None:
    s = CASES[name]()
    text = (GOLDEN / f"{name}.json").read_text()
    assert json.dumps(s.to_dict(), indent=1, allow_nan=False) + "\n" == text  # same keys, order and values
    assert s.to_json() == json.dumps(json.loads(text), indent=1, sort_keys=True, allow_nan=False)


@pytest.mark.parametrize("name", list(CASES))
def test_from_dict_reads_summary_json_back(name: str, tmp_path: Path) -> None:
    s = CASES[name]()
    (tmp_path / "summary.json").write_text(s.to_json())
    back = Summary.read(tmp_path / "summary.json")
    assert back == s and back.to_dict() == s.to_dict()


def test_records_are_frozen() -> None:
    s = CASES["synthetic_with_reference"]()
    with pytest.raises(AttributeError):
        s.n_pairs = 0  # type: ignore[misc]
    assert s.by_dimension["lighting"].ci95 == s.worst_dimension.ci95  # type: ignore[union-attr]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(schema_version=2), "schema version 2 is not the supported 3"),
    (lambda d: d.pop("schema_version"), "schema version None"),
    (lambda d: d.pop("by_cell"), "missing key 'by_cell'"),
    (lambda d: d.update(extra=1), "unknown key 'extra'"),
    (lambda d: d["clean"].update(n="20"), r"summary\.clean\.n: expected int, got str"),
    (lambda d: d["by_dimension"]["lighting"].update(ci95=[0.1]), r"by_dimension\.lighting\.ci95: expected 2 values"),
    (lambda d: d["curves_by_subtype"]["viewpoint/small_scale"].update(accuracy=None), "expected a list"),
])
def test_a_bad_summary_is_refused_by_name(edit: Callable[[dict], object], message: str) -> None:
    data = json.loads((GOLDEN / "synthetic_with_reference.json").read_text())
    edit(data)
    with pytest.raises(DataError, match=message):
        Summary.from_dict(data)


def test_an_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read summary"):
        Summary.read(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataError, match="not valid JSON"):
        Summary.read(tmp_path / "bad.json")
