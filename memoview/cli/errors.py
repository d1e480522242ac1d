"""The CLI's one error printer: a message the user can act on, never a traceback.

A :class:`~memoview.core.errors.MemoviewError` prints its message and hint
and exits with its own code. Anything else is a fault in memoview: one clear
line naming it, the path of the error log that holds the traceback
(:mod:`memoview.core.errorlog`), and exit code 70 (``EX_SOFTWARE``).
:func:`install_hooks` routes exceptions that escape the command, in the main
thread or any other thread, to the same printer.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Optional

from memoview.core.errorlog import record, summary
from memoview.core.errors import MemoviewError

EXIT_UNEXPECTED = 70  # sysexits.h EX_SOFTWARE: an internal software error


def print_error(exc: MemoviewError) -> int:
    """Print a user-facing error (message + hint); return its exit code."""
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


def print_unexpected(exc: BaseException, where: str = "") -> int:
    """Log ``exc`` with its traceback and print one clear message naming the log; return 70."""
    path = record(exc, where, fault=True)
    print(f"error: memoview hit an unexpected problem{f' in {where}' if where else ''}: {summary(exc)}",
          file=sys.stderr)
    print("hint: this is a fault in memoview, not in what you did; what was already recorded in the case "
          "is kept.", file=sys.stderr)
    if path is not None:
        print(f"details: {path} (attach this file to a bug report)", file=sys.stderr)
    else:
        print("details: the error log could not be written (is the disk full or read-only?)", file=sys.stderr)
    return EXIT_UNEXPECTED


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Optional[TracebackType]) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    if isinstance(exc, MemoviewError):
        print_error(exc)
    else:
        print_unexpected(exc)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "a background thread"
    if isinstance(args.exc_value, MemoviewError):
        print_error(args.exc_value)
    else:
        print_unexpected(args.exc_value, where=f"thread {name}")


def install_hooks() -> None:
    """Route exceptions that escape to ``sys.excepthook`` or ``threading.excepthook`` to the printer."""
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
