"""Re-run a recorded attempt and compare token ids (DESIGN section 6's verify re-run).

Greedy and beam attempts are deterministic; sampled attempts reproduce from
their recorded seed on the same software (torch's CPU generator).
"""

from __future__ import annotations

from typing import Any

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import common
from memoview.core.models.base import LoadedModel


def reproduce_attempt(case: Case, attempt_id: int, lm: LoadedModel) -> tuple[bool, dict[str, Any]]:
    attempt = case.attempt(attempt_id)
    spec = attempt.spec
    if spec.method not in ("prefix", "prompt", "chat"):
        raise errors.ValidationError(
            f"Attempt {attempt_id} is a {spec.method} attempt; only generating attempts can be re-run this way.",
            "Re-run sweeps with 'memoview sweep' and compare the windows.",
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
