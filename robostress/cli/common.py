"""Shared CLI plumbing: turn user errors into one clear line and a non-zero exit."""

from __future__ import annotations

import errno
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

import robostress.conf  # noqa: F401 - registers the typed schemas and the catalog config source
from robostress.cli.validate import check
from robostress.errors import RobostressError

log = logging.getLogger("robostress")
DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EFBIG})


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn``; a RobostressError prints ``robostress: error: ...`` and exits with its code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RobostressError as e:
            print(f"robostress: error: {e}", file=sys.stderr)
            sys.exit(e.exit_code)
        except OSError as e:
            if e.errno not in DISK_ERRORS:
                raise
            print(f"robostress: error: cannot write {e.filename or 'a file'}: {e.strerror}; finished work is "
                  "kept, free space (or make the folder writable) and rerun to resume", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print("robostress: interrupted; finished work is kept, rerun the same command to resume",
                  file=sys.stderr)
            sys.exit(130)

    return wrapper


def checked(config: str, cfg: Any) -> None:
    """Check ``cfg`` (of primary config ``config``) before any work; ConfigError on a mistake."""
    check(config, cfg, config.replace("_", "-").replace("tiny-vlm", "make-tiny-vlm"))
