"""``robostress [COMMAND] [hydra overrides...]``: dispatch to a thin Hydra entry point.

With no command, runs the main job (build the default mini benchmark if missing, evaluate the
default weight-free model with sanity rows and the agent, write the report). ``--help`` is
answered here (``robostress.cli.help``), and the config of every job the command line describes
is composed and checked before Hydra starts (``robostress.cli.validate.preflight``), so a user
mistake gives one line and exit code 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from robostress.cli.common import user_errors
from robostress.cli.help import command_help, top_help
from robostress.cli.validate import compose, preflight

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
    "rsb": "robostress.cli.rsb",
    "merge": "robostress.cli.merge",
    "export": "robostress.cli.export",
    "audit": "robostress.cli.audit",
    "leakage": "robostress.cli.leakage",
    "calibrate": "robostress.cli.calibrate",
}
USAGE = "usage: robostress [" + "|".join(COMMANDS) + "] [key=value ...] [--help]"
HELP_FLAGS = ("--help", "-h")
MULTIRUN_FLAGS = ("-m", "--multirun")
VALUE_FLAGS = ("--cfg", "-c", "--package", "-p")  # Hydra flags followed by a value
INSPECT_FLAGS = VALUE_FLAGS + ("--resolve",)  # print the config, run nothing


def _fail(message: str, code: int = 2) -> None:
    print(f"robostress: error: {message}", file=sys.stderr)
    sys.exit(code)


def main() -> None:
    """Pick the command from argv[1] (default: run), check its config, and hand the rest to Hydra."""
    args = sys.argv[1:]
    cmd = "run"
    explicit = bool(args) and not args[0].startswith("-") and "=" not in args[0]
    if explicit:
        cmd = args.pop(0)
        if cmd not in COMMANDS:
            _fail(f"unknown command {cmd!r}\n{USAGE}")
    if any(a in HELP_FLAGS for a in args):
        rest = [a for a in args if a not in HELP_FLAGS]
        text = user_errors(command_help)(cmd, COMMANDS[cmd], rest) if explicit or rest else top_help(COMMANDS)
        try:
            print(text)
        except BrokenPipeError:  # `robostress eval --help | head`
            sys.stderr.close()
        return
    sys.argv = [f"robostress {cmd}"] + args
    try:
        mod = importlib.import_module(COMMANDS[cmd])
    except ModuleNotFoundError as e:
        if e.name == COMMANDS[cmd]:
            _fail(f"command {cmd!r} is not available in this version")
        raise
    _preflight(cmd, mod, args)
    mod.main()


def _preflight(cmd: str, mod: object, args: list[str]) -> None:
    """Check every job's config first.

    With Hydra's inspection flags (``--cfg job``, ``--resolve``, ``-p``) only the composition is
    checked (nothing runs); with any other Hydra flag (``-cd``, ``--info``, ...) Hydra has the
    command line to itself.
    """
    config = getattr(mod, "CONFIG", None)
    overrides, flags, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a in VALUE_FLAGS:
            flags.append(a)
            i += 1  # its value
        elif a.startswith("-"):
            flags.append(a)
        else:
            overrides.append(a)
        i += 1
    if config is None or any(f not in MULTIRUN_FLAGS + INSPECT_FLAGS for f in flags):
        return
    bare = next((o for o in overrides if "=" not in o and not o.startswith("~")), None)
    if bare is not None:  # `robostress audit benchmarks/mini`: Hydra's parser would name a lexer error
        _fail(f"{bare!r} is not KEY=VALUE; `robostress {cmd} --help` lists the keys")
    if any(f in INSPECT_FLAGS for f in flags):
        user_errors(compose)(config, overrides, cmd)
    else:
        user_errors(preflight)(config, cmd, overrides, multirun=bool(flags))


if __name__ == "__main__":
    main()
