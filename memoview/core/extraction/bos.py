"""Where the start-of-text token (BOS) goes in a prefix prompt: the two policies memoview offers.

Why two: published extraction figures are only comparable when the prompts
are built the same way.

* ``outside`` (memoview's default since the start): the prompt is the k
  prefix tokens of the work, and the model's BOS is put in front of them when
  its tokenizer adds one. The model sees k + 1 tokens (k when it adds none).
  Recorded as ``prepend-bos`` or ``none``.
* ``in-prefix`` (as Cooper et al. 2025's released code does): BOS counts as
  one of the k prefix tokens, so the prompt is BOS followed by the first
  k − 1 tokens of the window, k tokens in all. The window of the work is then
  k − 1 + m tokens long and its target (the m tokens compared) starts k − 1
  tokens into it. Recorded as ``bos-in-prefix``; needs a model with a BOS
  token (refused, not approximated, otherwise). k = 1 means BOS alone: the
  model is asked to produce the work's opening from nothing.

The request option (``PrefixRequest.bos`` / ``SweepRequest.bos``) is the
user's choice; ``AttemptSpec.bos_policy`` records what was done, and the
request's ``params()`` carry ``"bos": "in-prefix"`` (only then, so older
records keep their exact shape) so a re-run or cross-engine check rebuilds
the same windows from the recorded parameters alone.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from memoview.core import errors

BosChoice = Literal["outside", "in-prefix"]
OUTSIDE: BosChoice = "outside"
IN_PREFIX: BosChoice = "in-prefix"
CHOICES: tuple[BosChoice, ...] = (OUTSIDE, IN_PREFIX)

# What the attempt records (AttemptSpec.bos_policy).
PREPEND = "prepend-bos"
NONE = "none"
COUNTED = "bos-in-prefix"

CLI_HELP = ("where the start-of-text token (BOS) goes: 'outside' (default) puts the model's BOS before the k "
            "prefix tokens of the work when its tokenizer adds one (the model sees k + 1 tokens); 'in-prefix' "
            "counts BOS as one of the k prefix tokens, as Cooper et al.'s released code does (BOS + the first "
            "k - 1 tokens of the window, k tokens in all; needs a model with a BOS token)")

CHOICE_LABELS: dict[BosChoice, str] = {
    OUTSIDE: "Before the prompt (memoview's default)",
    IN_PREFIX: "Counted as one of the prompt's k tokens (Cooper et al.)",
}
CHOICE_TOOLTIPS: dict[BosChoice, str] = {
    OUTSIDE: "The prompt is k tokens of the work; the model's start-of-text token is put in front of them when "
             "its tokenizer adds one, so the model sees k + 1 tokens.",
    IN_PREFIX: "The start-of-text token is one of the k prompt tokens: the prompt is that token and the next "
               "k \u2212 1 tokens of the work, k tokens in all, as in Cooper et al.'s released code. Use it to "
               "compare with their figures.",
}

# Plain words for exhibits and views, keyed by the recorded policy.
RECORDED_WORDS: dict[str, str] = {
    PREPEND: "A start-of-text token is put before the prompt",
    NONE: "No start-of-text token is added",
    COUNTED: ("The start-of-text token is counted inside the prefix, as in Cooper et al.'s released code: the "
              "prompt is that token followed by the work's tokens, one fewer than the prefix length k, "
              "k tokens in all"),
}


def validate_choice(choice: Any) -> None:
    if choice not in CHOICES:
        raise errors.ValidationError(f"Unknown BOS policy '{choice}'.",
                                     "Use 'outside' (BOS before the prefix) or 'in-prefix' (BOS counted in k).")


def policy_for(lm: Any, choice: str = OUTSIDE) -> str:
    """The policy to record for ``choice`` on this model; refuses 'in-prefix' on a model without BOS."""
    validate_choice(choice)
    bos_id = lm.bos_token_id
    if choice == IN_PREFIX:
        if bos_id is None:
            raise errors.ValidationError(
                "This model has no start-of-text (BOS) token, so BOS cannot be counted inside the prefix.",
                "Use the BOS policy 'outside' for this model.")
        return COUNTED
    return PREPEND if lm.adds_bos and bos_id is not None else NONE


def ids(lm: Any, policy: str) -> list[int]:
    """The token(s) put before the work's prefix tokens under a recorded ``policy``."""
    return [int(lm.bos_token_id)] if policy in (PREPEND, COUNTED) and lm.bos_token_id is not None else []


def work_prefix(prefix: int, policy: str) -> int:
    """How many tokens of the work the prompt holds when the user asked for a prefix of ``prefix`` tokens."""
    return prefix - 1 if policy == COUNTED else prefix


def choice_of(policy: Optional[str]) -> BosChoice:
    """The request option that produces a recorded ``policy`` (older records: 'outside')."""
    return IN_PREFIX if policy == COUNTED else OUTSIDE


def params_entry(choice: str) -> dict[str, str]:
    """What a request adds to its recorded params: nothing for the default, ``{"bos": "in-prefix"}`` otherwise."""
    return {"bos": IN_PREFIX} if choice == IN_PREFIX else {}


def sweep_k_words(k: int) -> str:
    """A sweep's recorded k (``prefix_tokens``, counting BOS) as the work's share: '19 (k = 20, counting ...)'."""
    return f"{k - 1:,} (k = {k:,}, counting the start-of-text token)"


def words(policy: Optional[str]) -> str:
    """One sentence (no final full stop) naming the recorded policy; unknown or missing ones say so."""
    if not policy:
        return "Start-of-text token: not recorded"
    return RECORDED_WORDS.get(policy, f"Start-of-text policy '{policy}'")
