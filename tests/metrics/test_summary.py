"""summarize and compare on a synthetic run whose every number is known by construction."""

from __future__ import annotations

import json
import random

import pytest

from robostress.errors import DataError
from robostress.metrics import compare, summarize
from tests.metrics.synthetic import clean_id, pred, reference, synthetic


@pytest.fixture(scope="module")
def summary() -> dict:
    return summarize(synthetic(), reference=reference()).to_dict()


def test_cells_and_rollups(summary: dict) -> None:
    s = summary
    assert (s["n_predictions"], s["n_clean"], s["n_stressed"], s["n_pairs"]) == (180, 20, 160, 160)
    assert s["clean"]["accuracy"] == 0.8 and s["clean"]["n"] == 20
    for sev in range(1, 6):
        assert s["by_subtype_severity"][f"lighting/global_underexposure/{sev}"]["accuracy"] == pytest.approx((17 - 3 * sev) / 20)
    assert sorted(k for k in s["by_subtype_severity"] if k.startswith("viewpoint")) == [
        "viewpoint/small_scale/1", "viewpoint/small_scale/3", "viewpoint/small_scale/5"]
    # by_cell: lighting s3, recognition = even items: 0, 2, 4, 6 correct of 10
    assert s["by_cell"]["lighting/global_underexposure/3/recognition"]["accuracy"] == pytest.approx(0.4)
    assert s["by_cell"]["lighting/global_underexposure/3/spatial"]["accuracy"] == pytest.approx(0.4)  # 1, 3, 5, 19
    assert s["by_dimension_severity"]["viewpoint/3"]["n"] == 20
    assert s["by_ability_clean"]["recognition"]["accuracy"] == pytest.approx(0.8)
    assert s["by_dimension_ability"]["viewpoint/spatial"]["accuracy"] == pytest.approx(0.8)
    light = s["by_dimension"]["lighting"]
    lo, hi = light["ci95"]
    assert lo < 0.4 < hi and (light["n"], light["n_scenes"], light["n_families"]) == (100, 10, 20)
    # the scene bootstrap is wider than the (labelled) Wilson interval that treats items as independent
    wlo, whi = light["wilson95_items_independent"]
    assert hi - lo > 1.5 * (whi - wlo)
    assert s["by_format_stressed"]["mc"]["chance"] == 0.25 and s["by_format_clean"]["mc"]["n"] == 20
    assert s["bootstrap"]["resampled_unit"].startswith("scene, then clean-twin family")


def test_unparsable_and_error_rates(summary: dict) -> None:
    assert summary["by_subtype_severity"]["viewpoint/small_scale/5"]["unparsable_rate"] == pytest.approx(1 / 20)
    assert summary["by_subtype_severity"]["viewpoint/small_scale/3"]["unparsable_rate"] == 0
    assert summary["by_subtype_severity"]["lighting/global_underexposure/5"]["error_rate"] == pytest.approx(1 / 20)
    assert summary["stressed_micro"]["error_rate"] == pytest.approx(1 / 160)


def test_paired_drops_flips_and_robustness(summary: dict) -> None:
    light = summary["paired_by_dimension"]["lighting"]
    assert light["clean_accuracy"] == pytest.approx(0.8) and light["stressed_accuracy"] == pytest.approx(0.4)
    assert light["drop"] == pytest.approx(0.4)
    assert light["drop_ci95"][0] < 0.4 < light["drop_ci95"][1]
    assert light["flip_correct_to_wrong"] == pytest.approx(45 / 100)  # 3s items at each severity s
    assert light["flip_wrong_to_correct"] == pytest.approx(5 / 100)  # item 19 at every severity
    assert light["relative_robustness"] == pytest.approx(0.5)
    assert (light["n_clean_twins"], light["n_scenes"]) == (20, 10)
    assert light["mdd"] == pytest.approx(2.8016 * light["drop_se"], rel=1e-4) and light["mdd"] > 0
    cell = summary["paired_by_subtype_severity"]["lighting/global_underexposure/2"]
    assert cell["drop"] == pytest.approx(0.8 - 11 / 20) and cell["flip_correct_to_wrong"] == pytest.approx(6 / 20)
    view = summary["paired_by_dimension"]["viewpoint"]
    assert view["drop"] == 0 and view["drop_ci95"] == [0, 0] and view["flip_correct_to_wrong"] == 0
    assert view["mdd"] == 0  # no pair flips: the variance is not estimable (the report shows '–')
    assert summary["paired_by_cell"]["lighting/global_underexposure/3/recognition"]["n_pairs"] == 10
    assert summary["paired_by_ability"]["recognition"]["n_pairs"] == 80


def test_worst_dimension_micro_and_macro(summary: dict) -> None:
    w = summary["worst_dimension"]
    assert (w["dimension"], w["accuracy"], w["metric"]) == ("lighting", pytest.approx(0.4),
                                                            "stressed accuracy, micro over items")
    assert summary["stressed_micro"]["accuracy"] == pytest.approx((40 + 48) / 160)
    assert summary["stressed_macro_over_subtypes"] == pytest.approx((0.4 + 0.8) / 2)


def test_breaking_points(summary: dict) -> None:
    # halfway from 0.8 to chance 0.25 is 0.525: between (2, 0.55) and (3, 0.40)
    light = summary["curves_by_subtype"]["lighting/global_underexposure"]
    assert light["breaking_point"] == pytest.approx(2 + 0.025 / 0.15)
    assert light["severities"] == [1, 2, 3, 4, 5] and light["clean_n_twins"] == 20
    assert summary["curves_by_dimension"]["lighting"]["breaking_point"] == pytest.approx(2 + 0.025 / 0.15)
    assert summary["curves_by_subtype"]["viewpoint/small_scale"]["breaking_point"] is None


def test_corruption_error_by_hand(summary: dict) -> None:
    ce = summary["corruption_error"]
    # lighting errors (3 + 3s) / 20 sum to 3.0, the reference's 5 x 0.8 = 4.0
    assert ce["per_subtype"]["lighting/global_underexposure"] == pytest.approx(3.0 / 4.0)
    assert ce["per_subtype"]["viewpoint/small_scale"] == pytest.approx(0.6 / 2.4)
    assert ce["mCE_per_dimension"] == pytest.approx({"lighting": 0.75, "viewpoint": 0.25})
    assert ce["mCE"] == pytest.approx(0.5) and ce["reference_model"] == "ref"


def test_ce_uses_only_shared_items() -> None:
    ref = [p for p in reference() if not p.item_id.startswith("view/")]
    ce = summarize(synthetic(), reference=ref).to_dict()["corruption_error"]
    assert list(ce["per_subtype"]) == ["lighting/global_underexposure"] and ce["n_items"] == 100
    other = [p.model_copy(update={"item_id": "x" + p.item_id}) for p in reference()]
    with pytest.raises(DataError, match="share no stressed items"):
        summarize(synthetic(), reference=other)


def test_summary_is_json_deterministic_and_order_free(summary: dict) -> None:
    text = json.dumps(summary, sort_keys=True, allow_nan=False)
    preds = synthetic()
    random.Random(0).shuffle(preds)
    assert json.dumps(summarize(preds, reference=reference()).to_dict(), sort_keys=True) == text
    assert summarize(synthetic(), seed=1).paired_by_dimension["lighting"].drop_se != \
        summary["paired_by_dimension"]["lighting"]["drop_se"]


def test_unpaired_items_are_counted_not_paired() -> None:
    preds = [p for p in synthetic() if p.item_id != clean_id(0)]
    s = summarize(preds).to_dict()
    assert s["n_unpaired_stressed"] == 8 and s["n_pairs"] == 152
    assert s["by_dimension"]["lighting"]["n"] == 100 and s["paired_by_dimension"]["lighting"]["n_pairs"] == 95


@pytest.mark.parametrize(("preds", "message"), [
    ([], "no predictions"),
    (synthetic()[:2] + synthetic()[:1], "two predictions"),
    (synthetic() + [pred("other", "other", "none", "none", 0, True, model="m2")], "several models"),
    ([pred("c", "c", "lighting", "x", 0, True)], "severity 0 with dimension 'lighting'"),
    ([pred("c", "d", "none", "none", 0, True)], "names another clean twin"),
    ([pred("c", "c", "none", "none", 0, True), pred("s1", "c", "lighting", "x", 1, True),
      pred("s2", "s1", "lighting", "x", 2, True)], "is a stressed item"),
])
def test_inconsistent_predictions_are_refused(preds: list, message: str) -> None:
    with pytest.raises(DataError, match=message):
        summarize(preds)


def test_compare_gains_per_cell() -> None:
    base = synthetic()
    fixed = [p.model_copy(update={"correct": True, "model": "agent"})
             if p.dimension == "lighting" and p.severity >= 3 else p.model_copy(update={"model": "agent"})
             for p in base]
    c = compare(base, fixed).to_dict()
    assert (c["base_model"], c["other_model"], c["n_only_in_base"]) == ("m", "agent", 0)
    g3 = c["by_subtype_severity"]["lighting/global_underexposure/3"]
    assert (g3["base"], g3["other"], g3["gain"]) == (pytest.approx(0.4), 1.0, pytest.approx(0.6))
    assert g3["gain_ci95"][0] > 0 and g3["helped"] == pytest.approx(0.6) and g3["hurt"] == 0
    assert c["by_subtype_severity"]["lighting/global_underexposure/1"]["gain"] == 0
    assert c["by_dimension"]["viewpoint"]["gain"] == 0
    assert c["by_dimension"]["lighting"]["gain"] == pytest.approx((12 + 15 + 18) / 100)
    assert c["overall"]["n"] == 180


def test_compare_refuses_other_benchmarks() -> None:
    base = synthetic()
    with pytest.raises(DataError, match="share no item ids"):
        compare(base, [p.model_copy(update={"item_id": "z" + p.item_id}) for p in base])
    moved = [p.model_copy(update={"severity": 4}) if p.item_id == "light/0/3" else p for p in base]
    with pytest.raises(DataError, match="different benchmarks"):
        compare(base, moved)
