"""Property tests (hypothesis) for the JSONL and JSON readers: any bytes give records or a DataError
that names the file, never another exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robostress.benchmark.load import Benchmark, read_records
from robostress.benchmark.manifest import read_jsonl, read_manifest
from robostress.errors import DataError
from robostress.evaluate.runner import read_run_meta
from robostress.metrics.runs import load_predictions
from robostress.questions.item import Item
from robostress.render.frame import Frame

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.function_scoped_fixture])
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                           max_leaves=20)
# files: raw bytes, JSON lines of arbitrary values, and real records with one field replaced
lines = st.lists(json_values.map(lambda v: json.dumps(v)), max_size=6).map(lambda ls: "\n".join(ls).encode())
raw = st.binary(max_size=600)


_DIR: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    _DIR[:] = [tmp_path_factory.mktemp("prop")]


def _tmp(data: bytes, name: str) -> Path:
    """``data`` as file ``name`` in the module's folder (each example overwrites the last)."""
    (_DIR[0] / name).write_bytes(data)
    return _DIR[0] / name


@SETTINGS
@given(st.one_of(raw, lines), st.sets(st.integers(0, 3), max_size=2) | st.none())
@pytest.mark.slow
def test_read_jsonl_gives_dicts_or_a_data_error(data: bytes, versions: set[int] | None) -> None:
    p = _tmp(data, "x.jsonl")
    try:
        recs = list(read_jsonl(p, versions))
    except DataError as e:
        assert str(p) in str(e)
        return
    assert all(isinstance(r, dict) for r in recs)
    if versions is not None:
        assert all(r.get("schema_version") in versions for r in recs)


@pytest.fixture(scope="module")
def real_lines(tiny_bench: Benchmark) -> dict[str, list[dict]]:  # type: ignore[type-arg]
    return {n: [json.loads(x) for x in (tiny_bench.root / n).read_text().splitlines()[:3]]
            for n in ("frames.jsonl", "items.jsonl")}


@SETTINGS
@given(data=st.data())
def test_records_with_a_field_replaced_validate_or_give_a_data_error(real_lines, data) -> None:  # type: ignore[no-untyped-def]
    name = data.draw(st.sampled_from(sorted(real_lines)))
    rec = dict(data.draw(st.sampled_from(real_lines[name])))
    key = data.draw(st.sampled_from(sorted(rec)))
    rec[key] = data.draw(json_values)
    p = _tmp((json.dumps(rec) + "\n").encode(), name)
    try:
        out = read_records(p, Frame if name == "frames.jsonl" else Item)
    except DataError as e:
        assert f"{p}:1:" in str(e)
        return
    assert len(out) == 1


@SETTINGS
@given(st.one_of(raw, lines))
@pytest.mark.slow
def test_predictions_and_run_meta_and_manifest_readers(data: bytes) -> None:
    p = _tmp(data, "predictions.jsonl")
    try:
        preds = load_predictions(p)
        assert len({x.item_id for x in preds}) == len(preds)
    except DataError as e:
        assert str(p) in str(e)
    for name, read in (("run.json", read_run_meta), ("manifest.json", None)):
        q = _tmp(data, name)
        try:
            read(q) if read else read_manifest(q.parent)
        except DataError as e:
            assert str(q) in str(e)
