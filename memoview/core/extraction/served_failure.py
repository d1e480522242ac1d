"""A served attempt that fails mid-request is still recorded, with what was sent and what came back.

Every method that runs an attempt (prefix, p_z, sweep, prompt, chat,
membership) goes through :func:`record_server_failure` when the server fails
(a 500 after every retry, a dead server, garbage, a refused key): the attempt
is committed with status ``failed``, the error and its hint, and — through
``Case.record_attempt``, the one place exchanges are stored — every HTTP
exchange made since the attempt started (the failed tries included: the
request body and the error response, or the transport error), hashed in the
attempt record and its audit entry exactly as a successful attempt's are.
Then the error is raised as before, so the GUI, the CLI and the campaign
runner report it; its hint names the recorded attempt.

Being in the method functions, this covers every caller at once: GUI jobs
(session.run_request), ``memoview attempt``/``sweep``, protocols and
concurrent campaigns. Inside a campaign the failed attempt keeps its protocol
but not its campaign key (recorded in its metrics instead): a resumed run
must re-run the step, and the campaign key is unique per sample.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.records import Attempt, AttemptStatus, SweepWindow
from memoview.core.timeutil import utc_now

FAILURE_KIND = "server"


def record_server_failure(case: Case, attempt: Attempt, exc: errors.ServerError,
                          windows: Iterable[SweepWindow] = ()) -> Attempt:
    """Commit ``attempt`` (its spec, prompt and start time filled in) as failed by ``exc``; returns it stored.

    Adds to ``exc.hint`` which attempt holds the stored exchanges, so the caller's message says where to look.
    """
    metrics = {**attempt.metrics, "failure": FAILURE_KIND, "failure_hint": exc.hint}
    if attempt.campaign_key is not None:
        metrics.update(campaign_step=attempt.campaign_key, campaign_sample=attempt.sample_index,
                       campaign_note="not counted as done: a resumed run re-runs this step")
    failed = replace(attempt, status=AttemptStatus.FAILED.value, error=f"{type(exc).__name__}: {exc.message}",
                     metrics=metrics, campaign_key=None, finished_at=utc_now(), output_sha256="")
    stored = case.record_attempt(failed, windows)
    n = int((stored.environment.get("server_exchanges") or {}).get("count", 0))
    note = (f"The failed attempt is recorded as attempt {stored.id} with its {n} request(s) and response(s) "
            f"('memoview server exchanges CASE {stored.id}').")
    exc.hint = f"{exc.hint} {note}".strip() if exc.hint else note
    return stored


__all__ = ["FAILURE_KIND", "record_server_failure"]
