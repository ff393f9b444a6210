"""Leaderboards: verify submission bundles (scores recomputed from raw answers), accept them as
entries, and build each board's README table and static index.html."""

from robostress.leaderboard.board import board_dir, build, entries, pack, submit
from robostress.leaderboard.bundle import Limits, Refused
from robostress.leaderboard.verify import Board, Verdict, load_board, verify

__all__ = ["Board", "Limits", "Refused", "Verdict", "board_dir", "build", "entries", "load_board", "pack",
           "submit", "verify"]
