"""``robostress [COMMAND] [hydra overrides...]``: dispatch to a thin Hydra entry point.

With no command, runs the main job (build the default mini benchmark if missing, evaluate the
default weight-free model with sanity rows and the agent, write the report).
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "run": "robostress.cli.run",
    "build": "robostress.cli.build",
    "eval": "robostress.cli.eval",
    "contact-sheet": "robostress.cli.contact_sheet",
    "make-tiny-vlm": "robostress.cli.tiny_vlm",
    "train-detector": "robostress.cli.train_detector",
    "compare": "robostress.cli.compare",
    "leaderboard": "robostress.cli.leaderboard",
    "verify": "robostress.cli.verify",
}
USAGE = "usage: robostress [" + "|".join(COMMANDS) + "] [key=value ...] [--help]"


def main() -> None:
    """Pick the command from argv[1] (default: run) and hand the rest to Hydra."""
    args = sys.argv[1:]
    cmd = "run"
    if args and not args[0].startswith("-") and "=" not in args[0]:
        cmd = args.pop(0)
        if cmd not in COMMANDS:
            print(f"robostress: error: unknown command {cmd!r}\n{USAGE}", file=sys.stderr)
            sys.exit(2)
    sys.argv = [f"robostress {cmd}"] + args
    try:
        mod = importlib.import_module(COMMANDS[cmd])
    except ModuleNotFoundError as e:
        if e.name == COMMANDS[cmd]:
            print(f"robostress: error: command {cmd!r} is not available in this version", file=sys.stderr)
            sys.exit(2)
        raise
    mod.main()


if __name__ == "__main__":
    main()
