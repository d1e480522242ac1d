"""Re-run a recorded attempt and compare token ids (DESIGN section 6's verify re-run).

Greedy and beam attempts are deterministic; sampled attempts reproduce from
their recorded seed on the same software (torch's CPU generator). A sweep is
re-scored window by window: each window's greedy exact length must be the
same, and its log10 p within ``SWEEP_LOG10_TOLERANCE`` (batched float32
sums may differ in the last bits between machines).
"""

from __future__ import annotations

from typing import Any

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import common
from memoview.core.models.base import LoadedModel


SWEEP_LOG10_TOLERANCE = 1e-3


def reproduce_attempt(case: Case, attempt_id: int, lm: LoadedModel) -> tuple[bool, dict[str, Any]]:
    attempt = case.attempt(attempt_id)
    spec = attempt.spec
    if spec.method == "sweep":
        return _reproduce_sweep(case, attempt, lm)
    if spec.method not in ("prefix", "prompt", "chat"):
        raise errors.ValidationError(
            f"Attempt {attempt_id} is a {spec.method} attempt; only generating attempts and sweeps can be re-run.",
            "Re-run it with the same command and compare the figures.",
        )
    if spec.model_fingerprint != lm.info.fingerprint:
        raise errors.ValidationError(
            f"Attempt {attempt_id} was run on model fingerprint {spec.model_fingerprint[:12]}, "
            f"but the loaded model is {lm.info.fingerprint[:12]}.",
            "Load the model the attempt used.",
        )
    if attempt.status != "done" and attempt.status != "refused":
        raise errors.ValidationError(f"Attempt {attempt_id} did not finish (status {attempt.status}).")
    prompt = list(attempt.prompt_token_ids)
    out = common.generate(lm, [prompt], spec.params, seed=spec.seed)[0]
    recorded = list(attempt.output_token_ids)
    same = out == recorded
    first = next((i for i, (a, b) in enumerate(zip(out, recorded)) if a != b), min(len(out), len(recorded)))
    return same, {
        "attempt_id": attempt_id, "same": same, "recorded_tokens": len(recorded), "rerun_tokens": len(out),
        "first_difference": None if same else first, "decoding": spec.params.get("decoding"), "seed": spec.seed,
        "environment_then": attempt.environment, "environment_now": common.environment(lm),
    }


def _reproduce_sweep(case: Case, attempt: Any, lm: LoadedModel) -> tuple[bool, dict[str, Any]]:
    """Re-score every recorded window (no generation: continuations are not compared)."""
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows
    from memoview.core.jobs import run_job

    spec = attempt.spec
    if spec.model_fingerprint != lm.info.fingerprint:
        raise errors.ValidationError(
            f"Attempt {attempt.id} was run on model fingerprint {spec.model_fingerprint[:12]}, "
            f"but the loaded model is {lm.info.fingerprint[:12]}.",
            "Load the model the attempt used.",
        )
    if attempt.status != "done":
        raise errors.ValidationError(f"Attempt {attempt.id} did not finish (status {attempt.status}).")
    p = spec.params
    request = SweepRequest(prefix=int(p["prefix_tokens"]), suffix=int(p["suffix_tokens"]), stride=int(p["stride"]),
                           stride_unit=str(p.get("stride_unit", "tokens")), top_k=p.get("pz_top_k"),
                           temperature=float(p.get("pz_temperature", 1.0)), generate=False, generate_best=0,
                           batch_size=int(p.get("batch_size", 16)))
    recorded = case.sweep_windows(attempt.id)
    rerun = run_job(sweep_windows(lm, case.document(int(spec.document_id or 0)), request))
    first: Any = None
    for old, new in zip(recorded, rerun):
        if (old.start_token, old.greedy_exact) != (new.start_token, new.greedy_exact) \
                or abs(old.log10_p - new.log10_p) > SWEEP_LOG10_TOLERANCE:
            first = old.index
            break
    if first is None and len(recorded) != len(rerun):
        first = min(len(recorded), len(rerun))
    same = first is None
    return same, {
        "attempt_id": attempt.id, "same": same, "recorded_windows": len(recorded), "rerun_windows": len(rerun),
        "first_difference": first, "compared": "per window: start token, greedy exact length, log10 p "
        f"(within {SWEEP_LOG10_TOLERANCE:g})", "environment_then": attempt.environment,
        "environment_now": common.environment(lm),
    }
