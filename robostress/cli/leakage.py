"""``robostress leakage [benchmark_dir=...]``: thin Hydra entry point over robostress.evaluate.leakage."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from robostress.cli.common import checked, user_errors

CONFIG = "leakage"
HELP = ("Text-only leakage per question type (prior and blind baselines, answer balance, optionally a learned "
        "logreg text model), built or sampled scenes.")


@hydra.main(config_path="../conf", config_name=CONFIG, version_base="1.3")
@user_errors
def main(cfg: DictConfig) -> None:
    """Entry point: print the table of a built benchmark, or of sampled scenes."""
    checked(CONFIG, cfg)
    from robostress.evaluate import leakage as lk  # deferred: keeps `robostress --help` fast

    family, n_train = str(cfg.family), int(cfg.train_scenes)
    if cfg.benchmark_dir is not None:
        test = lk.benchmark_test_items(str(cfg.benchmark_dir), bool(cfg.clean_only))
        print(lk.format_rows(lk.leakage_rows(test)))
        scored_on = f"the rendered {'clean ' if cfg.clean_only else ''}frames of {cfg.benchmark_dir}"
        if cfg.learner in ("logreg", "all"):
            _learned(lk.train_items(family, n_train), test, f"the {n_train} train scenes of {family} (box rasteriser)",
                     scored_on)
        if cfg.learner in ("reader_blind", "all"):
            _twin(test, scored_on)
        return
    n_test = int(cfg.test_scenes)
    train, test = lk.sampled_items(family, n_train, n_test)
    print(lk.sampled_header(family, n_train, n_test))
    print(lk.format_rows(lk.prior_rows(train, test, family)))
    if cfg.learner in ("logreg", "all"):
        _learned(train, test, f"the {n_train} train scenes", f"the {n_test} held-out scenes")
    if cfg.learner in ("reader_blind", "all"):
        _twin(test, f"the {n_test} held-out scenes (box rasteriser)")


def _learned(train: list, test: list, fitted_on: str, scored_on: str) -> None:  # type: ignore[type-arg]
    from robostress.evaluate.text_learner import format_learned, learned_rows  # deferred: as above

    print(f"\nlearned text-only model (logreg), fitted on {fitted_on}, scored on {scored_on}; "
          "margin = accuracy - chance, SE clustered by scene")
    print(format_learned(learned_rows(train, test)))


def _twin(test: list, scored_on: str) -> None:  # type: ignore[type-arg]
    from robostress.evaluate.leakage import twin_rows  # deferred: as above
    from robostress.evaluate.text_learner import format_learned  # deferred: as above

    print(f"\ntext-only twin (reader_blind: the reader trained on the train split with its image zeroed), scored on "
          f"{scored_on}; margin = accuracy - chance, SE clustered by scene")
    print(format_learned(twin_rows(test), learner="reader_blind"))
