"""Scale-out campaigns: a protocol's steps run concurrently on a served model's replicas.

``memoview run CASE PROTOCOL --engine openai --endpoint A --endpoint B
--concurrency N`` plans the protocol exactly as the sequential runner does
(same steps, same campaign keys), then runs up to ``N x endpoints`` steps at
once in worker threads. Inside a step the engine spreads its requests (a
sweep's windows, a prompt's samples) over the endpoints, each endpoint capped
at N requests in flight. Each finished attempt is committed at once (the
case serialises writes), so a killed run loses at most the attempts in
flight, and a rerun skips every (key, sample) already in the case.

Each worker runs its step inside its own evidence scope, so every HTTP
exchange is stored with the attempt that made it. When a step fails (the
server died, a 500 after every retry), the exchanges it made are still
stored, unattached, with the reason; the other steps stop at their next
attempt boundary and the error is raised with its own message, and the case
can be resumed.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction.campaign import done_samples, plan, run_step
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Protocol
from memoview.core.remote import evidence


def run_campaign_concurrent(case: Case, engine: Any, protocol: Protocol, data: dict[str, Any], *,
                            workers: int, cancel: Optional[CancelToken] = None) -> Job[dict[str, Any]]:
    """Run every pending step with up to ``workers`` steps at once; returns counts like the sequential runner."""
    steps = plan(case, data)
    total = sum(s.samples for s in steps)
    pending = []
    skipped = 0
    for step in steps:
        have = done_samples(case, protocol, step)
        skipped += len(have)
        if len(have) < step.samples:
            pending.append((step, have))
    stop = CancelToken()
    events: "queue.Queue[tuple[str, Any]]" = queue.Queue()
    failures: list[BaseException] = []
    lock = threading.Lock()
    model_id = engine.info.id

    def work(step: Any, have: set[int]) -> int:
        if stop.cancelled or (cancel is not None and cancel.cancelled):
            return 0
        with evidence.capture() as col:
            try:
                # Steps already running finish (or fail on their own): cancelling them would record
                # cancelled attempts, which a resumed run would then skip.
                job = run_step(case, engine, protocol, step, have, cancel)
                try:
                    while True:
                        events.put(("progress", next(job)))
                except StopIteration as end:
                    return int(end.value or 0)
            except BaseException as exc:
                with lock:
                    failures.append(exc)
                stop.cancel()
                raise
            finally:
                left = col.drain()
                if left:
                    reason = (f"step {step.key}: not recorded as an attempt"
                              + (f" ({failures[-1]})" if failures else " (stopped)"))
                    case.record_server_exchanges(model_id, left, reason[:500])

    ran = 0
    finished = skipped
    yield Progress(finished, total, f"{len(pending)} steps to run on {len(engine.endpoints)} endpoint(s), "
                                    f"{workers} at once")
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="memoview-campaign") as pool:
        futures: dict[Future[int], Any] = {pool.submit(work, step, have): step for step, have in pending}
        remaining = set(futures)
        while remaining:
            try:
                kind, payload = events.get(timeout=0.2)
                if kind == "progress" and isinstance(payload, Progress):
                    yield Progress(finished, total, payload.message)
            except queue.Empty:
                pass
            for fut in [f for f in remaining if f.done()]:
                remaining.discard(fut)
                step = futures[fut]
                if fut.exception() is None:
                    ran += fut.result()
                    finished += step.samples
                    yield Progress(finished, total, f"{step.key} done")
            if cancel is not None and cancel.cancelled:
                stop.cancel()
    if failures:
        first = failures[0]
        if isinstance(first, errors.MemoviewError):
            raise first
        raise errors.ExtractionError(f"A campaign step failed: {type(first).__name__}: {first}.",
                                     "Completed attempts are saved; run the same command again to resume.") from first
    yield Progress(total, total, "campaign done")
    return {"steps": len(steps), "attempts_planned": total, "attempts_run": ran, "attempts_skipped": skipped,
            "endpoints": [e.base_url for e in engine.endpoints], "workers": workers}


__all__ = ["run_campaign_concurrent"]
