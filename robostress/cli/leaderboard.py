"""``robostress leaderboard verify|submit|build|pack [BUNDLE] [board=mini] ...``: thin Hydra entry
point over robostress.leaderboard. The first positional argument is the action, the second the
bundle folder."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from robostress.cli.common import log, user_errors
from robostress.errors import ConfigError, DataError

HELP = "Leaderboards: pack a run, verify or submit a bundle, build a board (leaderboards/<board>/)."

ACTIONS = ("verify", "submit", "build", "pack")


def positional(argv: list[str]) -> list[str]:
    """argv with ``ACTION [BUNDLE]`` turned into ``action=... bundle=...`` overrides."""
    pos = [a for a in argv[1:] if "=" not in a and not a.startswith("-")]
    rest = [a for a in argv[1:] if a not in pos]
    if len(pos) > 2:
        raise ConfigError(f"too many arguments {pos[2:]}; usage: robostress leaderboard ACTION [BUNDLE] [key=value ...]")
    keys = ["action", "bundle"][:len(pos)]
    return [argv[0], *rest, *(f"{k}='{v.replace(chr(92), chr(92) * 2).replace(chr(39), chr(92) + chr(39))}'"
                              for k, v in zip(keys, pos, strict=True))]


def _bench(cfg: DictConfig, board):  # type: ignore[no-untyped-def]
    from robostress.benchmark.load import Benchmark  # deferred: keeps `robostress --help` fast

    return Benchmark(Path(cfg.benchmark_dir) if cfg.benchmark_dir else Path("benchmarks") / board.benchmark_name)


@hydra.main(config_path="../conf", config_name="leaderboard", version_base="1.3")
@user_errors
def _main(cfg: DictConfig) -> None:
    from robostress import leaderboard as lb  # deferred: keeps `robostress --help` fast

    if OmegaConf.is_missing(cfg, "action") or cfg.action not in ACTIONS:
        got = "nothing" if OmegaConf.is_missing(cfg, "action") else repr(cfg.action)
        raise ConfigError(f"leaderboard needs an action, one of {', '.join(ACTIONS)} (got {got})")
    if cfg.action in ("verify", "submit", "pack") and not cfg.bundle:
        raise ConfigError(f"leaderboard {cfg.action} needs a bundle folder: robostress leaderboard {cfg.action} PATH")
    if cfg.action == "pack":
        if not cfg.run_dir or not cfg.card.name:
            raise ConfigError("leaderboard pack needs run_dir=RUN_FOLDER and card.name=MODEL_NAME")
        out = lb.pack(Path(cfg.run_dir), Path(cfg.bundle), OmegaConf.to_container(cfg.card, resolve=True))  # type: ignore[arg-type]
        log.info("bundle: %s", out)
        return
    board = lb.load_board(lb.board_dir(str(cfg.board), Path(cfg.boards_dir) if cfg.boards_dir else None))
    if cfg.action == "build":
        files = lb.build(board)
        log.info("board %s: %d entries; %s, %s", board.name, len(lb.entries(board)), files["md"], files["html"])
        return
    bench = _bench(cfg, board)
    if cfg.action == "verify":
        v = lb.verify(Path(cfg.bundle), board, bench, int(cfg.resamples))
    else:
        v, dest = lb.submit(Path(cfg.bundle), board, bench, replace=bool(cfg.replace), resamples=int(cfg.resamples))
    if not v.ok:
        raise DataError(f"bundle refused: {v.reason}")
    for f in v.flags:
        log.warning("flag: %s", f)
    s = v.scores
    assert s is not None  # a valid verdict carries its recomputed scores
    log.info("%s: %s; recomputed stressed %.1f%%, clean %.1f%%, worst dimension %s",
             v.card.get("name"), "accepted" if cfg.action == "submit" else "valid",
             100 * (s.stressed.accuracy or 0), 100 * (s.clean.accuracy or 0),
             s.worst_dimension.dimension if s.worst_dimension else None)
    if cfg.action == "submit":
        log.info("entry: %s", dest)


@user_errors
def _args() -> None:
    sys.argv = positional(sys.argv)


def main() -> None:
    """Entry point."""
    _args()
    _main()
