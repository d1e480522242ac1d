"""The methods the wizard offers, in plain words, and a request's settings in words.

Each method: its name, prompt class, what it does and its literature default (shown on the method page and in
the run summary). Which methods need a passage or the whole work, and which take a free prompt, decide what the
method page offers. They come from the core's one catalogue of methods
(:mod:`memoview.core.extraction.catalogue`).
"""

from __future__ import annotations

from typing import Any

from memoview.core.extraction import catalogue
from memoview.gui.dialogs.bos_choice import prompt_words as bos_prompt_words
from memoview.gui.wording import decoding_words, plural, scheme_words


def _wizard_entry(info: catalogue.MethodInfo) -> dict[str, str]:
    entry = {"name": info.title, "text": info.explanation, "default": info.literature,
             "prompt_class": "none" if info.prompt_class_note else info.prompt_class.value}
    if info.prompt_class_note:
        entry["prompt_class_note"] = info.prompt_class_note
    return entry


# Read from the core's one catalogue of methods (core/extraction/catalogue.py): the names, explanations and
# literature defaults the wizard shows are the ones the case tree, the CLI help and the exhibit's method page show.
METHODS: dict[str, dict[str, str]] = {info.key: _wizard_entry(info) for info in catalogue.METHODS}
PASSAGE_METHODS = tuple(info.key for info in catalogue.METHODS if info.offered_on_passage)
WHOLE_WORK_METHODS = tuple(info.key for info in catalogue.METHODS if info.offered_on_whole_work)
FREE_METHODS = catalogue.methods_needing(catalogue.Needs.PROMPT)
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
