"""The one error store: the details of every unexpected fault, and the last errors for diagnostics.

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

Beside it, ``errors.jsonl`` keeps the last :data:`KEEP_ERRORS` errors of any
kind (a user's mistake too) *redacted*: type, message without file paths or
quoted names, and the code locations of the traceback — what Help ▸ Copy
diagnostics shows (:mod:`memoview.support`). :func:`record` writes both; it
is the one call the GUI's error dialog and the CLI's error printer make.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import sys
import traceback
from dataclasses import asdict, dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Optional

from memoview import __version__

LOG_NAME = "memoview.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
_LOGGER_NAME = "memoview.errors"
DIAGNOSTICS_NAME = "errors.jsonl"
KEEP_ERRORS = 20


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


# ------------------------------------------------------------------------------------------ diagnostics
@dataclass(frozen=True)
class ErrorEntry:
    """One remembered error, redacted: no case content."""

    at: str  # UTC, ISO 8601
    kind: str  # exception class
    message: str  # redacted
    where: list[str]  # "module.py:123 in function" of the traceback, innermost last


_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"<>|:]+){2,}[\\/]?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»|“[^”]*”")


def redact(text: str) -> str:
    """Remove what could be case content from an error message: file paths and quoted names."""
    text = _PATHLIKE.sub("<path>", text)
    text = _QUOTED.sub("<…>", text)
    return text[:400]


def diagnostics_path() -> Path:
    """The redacted list of the last errors (it may not exist yet)."""
    return log_dir() / DIAGNOSTICS_NAME


def remember(exc: BaseException) -> ErrorEntry:
    """Add ``exc``, redacted, to the last errors shown by the diagnostics (the last 20 are kept)."""
    from memoview.core.timeutil import utc_now

    message = getattr(exc, "message", None) or str(exc)
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    entry = ErrorEntry(utc_now(), type(exc).__name__, redact(str(message)),
                       [f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames])
    try:
        path = diagnostics_path()
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        lines = (lines + [json.dumps(asdict(entry), ensure_ascii=False)])[-KEEP_ERRORS:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError:
        pass  # diagnostics must never cause an error of their own
    return entry


def recent(limit: int = 5) -> list[ErrorEntry]:
    """The last ``limit`` remembered errors, oldest first."""
    try:
        lines = diagnostics_path().read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[ErrorEntry] = []
    for line in lines[-limit:]:
        try:
            out.append(ErrorEntry(**json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out


def record(exc: BaseException, where: str = "", *, fault: Optional[bool] = None) -> Optional[Path]:
    """The one call for an error shown to the user: remember it for the diagnostics and, when it is a
    fault in memoview (``fault``; default: not a :class:`~memoview.core.errors.MemoviewError`), write its
    traceback to the error log. Returns the error log's path when a traceback was written there."""
    from memoview.core.errors import MemoviewError

    remember(exc)
    if fault is None:
        fault = not isinstance(exc, MemoviewError)
    return record_exception(exc, where) if fault else None
