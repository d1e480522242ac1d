"""The methods the wizard offers, in plain words, and a request's settings in words.

Each method: its name, prompt class, what it does and its literature default (shown on the method page and in
the run summary). Which methods need a passage or the whole work, and which take a free prompt, decide what the
method page offers. (To be read from the core's one catalogue of methods once it exists; issue 14, item 3.)
"""

from __future__ import annotations

from typing import Any

from memoview.gui.dialogs.bos_choice import prompt_words as bos_prompt_words
from memoview.gui.wording import decoding_words, plural, scheme_words

METHODS: dict[str, dict[str, str]] = {
    "prefix": {
        "name": "Prefix continuation (discoverable extraction)",
        "prompt_class": "prefix",
        "text": "The model is given the words just before the passage (taken from the work itself) and continues "
                "on its own, always choosing its most likely next word. If what it writes matches the work word "
                "for word, the passage can be extracted from the model. The words given to the model are never "
                "counted as reproduced.",
        "default": "Default: 50 tokens of prompt, 50 tokens to match, greedy decoding (Carlini et al. 2023, "
                   "“Quantifying Memorization Across Neural Language Models”).",
    },
    "pz": {
        "name": "Exact-continuation probability (p_z)",
        "prompt_class": "prefix",
        "text": "Computes how likely it is that the model, sampling as a chatbot does, writes the exact passage "
                "after the same prompt, and how many tries would give at least one exact copy with a 50% or 95% "
                "chance. It is computed exactly from the model's probabilities, not by trial and error.",
        "default": "Default: temperature 1, top-k 40 (Hayes et al. 2024; Cooper et al. 2025).",
    },
    "sweep": {
        "name": "Whole-work sweep (memorization map)",
        "prompt_class": "prefix",
        "text": "Slides a window over the whole work and, at each position, checks how much of the next stretch the "
                "model reproduces from the stretch before it. The result is a map of which parts of the work are "
                "memorized, shown as shading in the document and a strip beside the scroll bar.",
        "default": "Default: 50-token prompt, 50-token target, a new window every 50 tokens (Cooper et al. 2025).",
    },
    "prompt": {
        "name": "Free prompt (ordinary or indirect request)",
        "prompt_class": "ordinary",
        "text": "You write a request as an ordinary user would (for example, “What is the first paragraph of …?”). "
                "This tests whether the system regurgitates the work without being fed the work itself. "
                "Several samples are drawn, each with a recorded seed.",
        "default": "Default: 5 seeded samples, temperature 1 (as in the NYT and Concord complaints' examples).",
    },
    "chat": {
        "name": "Chat prompt (messages, the model's chat template)",
        "prompt_class": "ordinary",
        "text": "You write the conversation a user would have with a chat assistant (an optional system message and "
                "a user message). It is sent through the model's own chat template, exactly as a chat product "
                "would, and the exact text sent is shown before the run.",
        "default": "Default: 5 seeded samples, temperature 1; the model's chat template when it has one "
                   "(otherwise a plain “role: content” prompt, and the attempt says so).",
    },
    "membership": {
        "name": "Membership signals (weak evidence)",
        "prompt_class": "none",
        "text": "Statistics (perplexity, zlib ratio, Min-K%, Min-K%++) that only hint whether the work was in the "
                "training data. They are unreliable on their own (Duan et al. 2024) and are always labelled as "
                "weak evidence; never present them as proof of copying.",
        "default": "Default: Min-K% with k = 20% (Shi et al. 2023; Zhang et al. 2024).",
        "prompt_class_note": "none: the model only scores the work's own text",
    },
}
PASSAGE_METHODS = ("prefix", "pz", "prompt", "chat", "membership")
WHOLE_WORK_METHODS = ("sweep", "membership", "prompt", "chat")
FREE_METHODS = ("prompt", "chat")
DISCLOSURE = ("Every attempt is recorded in the case file — prompt, settings, output, failures and cancellations "
              "included — and may be disclosed to the other side. Nothing can be deleted afterwards.")


def settings_words(method: str, params: dict[str, Any]) -> str:
    """The settings of a request in words (no parameter names)."""
    parts: list[str] = []
    if "prefix" in params:
        parts.append(bos_prompt_words(params))
    if method == "sweep":
        unit = "tokens" if params.get("stride_unit") == "tokens" else "characters"
        parts.append(f"a new window every {params.get('stride')} {unit}")
        parts.append("p_z with " + scheme_words(params.get("pz_temperature"), params.get("pz_top_k")))
    elif method == "pz":
        parts.append("p_z with " + scheme_words(params.get("pz_temperature"), params.get("pz_top_k")))
    elif "decoding" in params:
        parts.append(decoding_words(params, params.get("seed") if params.get("decoding") == "sample" else None))
        if params.get("decoding") == "sample" and params.get("n_samples"):
            parts.append(plural(int(params["n_samples"]), "sample"))
    if method == "membership":
        parts.append("Min-K% (k = 20%), perplexity, zlib ratio")
    return "; ".join(parts) or "defaults"
