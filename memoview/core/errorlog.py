"""The error log: the details of every unexpected fault, kept for a bug report.

An unexpected exception (a fault in memoview, not something the user did)
never reaches the terminal as a traceback. The GUI shows it in its one error
dialog and the CLI prints one short message; both write the traceback here,
with the versions needed to reproduce it, and name this file so the user can
attach it to a support request. The file rotates (about 1 MB, three old
copies kept), so it never grows without bound.

The folder is the user's log folder (platformdirs), or ``$MEMOVIEW_LOG_DIR``.
Only the exception (type, message as raised, traceback), where it happened
and the versions are written; the message may name a file or a document
title, so the user can read the file before attaching it.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import traceback
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Optional

from memoview import __version__

LOG_NAME = "memoview.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
_LOGGER_NAME = "memoview.errors"


def log_dir() -> Path:
    """The folder of the error log ($MEMOVIEW_LOG_DIR, else the user's log folder)."""
    override = os.environ.get("MEMOVIEW_LOG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_log_path

    return user_log_path("memoview", appauthor=False)


def log_path() -> Path:
    """The error log file (it may not exist yet)."""
    return log_dir() / LOG_NAME


def _logger() -> logging.Logger:
    """The error logger, writing to the current :func:`log_path` (re-pointed if the folder changed)."""
    logger = logging.getLogger(_LOGGER_NAME)
    logger.propagate = False  # never echoed to stderr by a root handler
    logger.setLevel(logging.INFO)
    target = str(log_path().resolve())
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler) and handler.baseFilename == target:
            return logger
        logger.removeHandler(handler)
        handler.close()
    log_dir().mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(target, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return logger


def summary(exc: BaseException) -> str:
    """One line naming the exception: ``TypeError: ...``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def record_exception(exc: BaseException, where: str = "") -> Optional[Path]:
    """Write ``exc`` with its traceback to the error log; return the log's path.

    Returns None when the log cannot be written (a read-only or full disk):
    reporting an error must never raise another one.
    """
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    context = (f"memoview {__version__}, Python {platform.python_version()} ({sys.executable}), "
               f"{platform.platform()}")
    try:
        logger = _logger()
        logger.error("Unexpected error%s: %s\n%s\n%s", f" in {where}" if where else "", summary(exc),
                     context, details.rstrip())
        for handler in logger.handlers:
            handler.flush()
    except OSError:
        return None
    return log_path()
