"""Limits that protect the user from a request that would run for hours by mistake.

A typo such as ``--n 100000`` would start a run of days and fill the case
with attempts that can never be deleted (every attempt is disclosable). So
any one command that would run more than :data:`MAX_ATTEMPTS_UNCONFIRMED`
attempts is refused unless the user confirms it (``--confirm-large`` on the
CLI). 500 attempts is about 10 to 20 minutes with the demo model on two CPU
cores (one 50-token greedy continuation takes 1 to 2 seconds); larger models
take longer per attempt.
"""

from __future__ import annotations

from memoview.core import errors

MAX_ATTEMPTS_UNCONFIRMED = 500


def check_attempt_count(count: int, *, confirmed: bool, what: str = "This command") -> None:
    if count > MAX_ATTEMPTS_UNCONFIRMED and not confirmed:
        raise errors.ValidationError(
            f"{what} would run {count:,} attempts; more than {MAX_ATTEMPTS_UNCONFIRMED:,} in one command is refused "
            "unless confirmed (it may run for hours, and every attempt stays in the case). Nothing was run.",
            "Ask for fewer attempts, or add --confirm-large if this many is intended.")
