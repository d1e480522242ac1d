"""Builds a small case with hand-made attempts for the exhibit tests and bench (no model needed; no tests here)."""

from __future__ import annotations

import random
from pathlib import Path

from memoview.core.case import Case
from memoview.core.records import Attempt, AttemptSpec, ModelFile, ModelInfo, SweepWindow
from tests.support.documents import document_from_text as loaded

VOCAB = ("river stone lantern harbor winter orchard signal copper meadow thunder quiet basket ember "
         "violet candle silver garden morning shadow letter window marble feather distant crimson "
         "hollow forest bridge spiral velvet anchor puzzle saddle mirror ribbon meadowlark cobalt").split()


def prose(seed: int, words: int) -> str:
    rng = random.Random(seed)
    out, sentence = [], []
    for i in range(words):
        sentence.append(rng.choice(VOCAB))
        if len(sentence) >= rng.randint(8, 16):
            s = " ".join(sentence)
            out.append(s[0].upper() + s[1:] + ".")
            sentence = []
        if i and i % 120 == 0:
            out.append("\n\n")
    if sentence:
        out.append(" ".join(sentence) + ".")
    return " ".join(out).replace(" \n\n ", "\n\n")


def model_info() -> ModelInfo:
    return ModelInfo(path="/models/tiny-llama", format="hf", architecture="LlamaForCausalLM",
                     parameter_count=1_234_567, fingerprint="ab" * 32, name="tiny-llama",
                     files=(ModelFile("model.safetensors", 4096, "cd" * 32, "weights"),
                            ModelFile("config.json", 512, "ef" * 32, "config")),
                     dtype="float32", context_length=2048, adds_bos=True, bos_token="<s>", eos_token="</s>")


PARAMS = {"decoding": "greedy", "max_new_tokens": 50, "temperature": 1.0, "top_k": 0, "top_p": 1.0,
          "num_beams": 1, "n_samples": 1, "repetition_penalty": 1.0}
ENV = {"torch": "2.13.0", "transformers": "5.24.0", "python": "3.11.7", "device": "cpu"}


def prefix_attempt(model: ModelInfo, doc_id: int, text: str, ps: int, s: int, e: int, output: str,
                   status: str = "done", error: str = "", greedy_exact: int = 0, target_tokens: int = 50) -> Attempt:
    target = {"prefix_start_char": ps, "start_char": s, "end_char": e, "prefix_start_token": 0,
              "start_token": 50, "end_token": 100, "prefix_tokens": 50, "suffix_tokens": target_tokens}
    spec = AttemptSpec(method="prefix", prompt_class="prefix", model_id=model.id or 1,
                       model_fingerprint=model.fingerprint, document_id=doc_id, params=dict(PARAMS),
                       target=target, bos_policy="prepend-bos", seed=0)
    return Attempt(id=0, spec=spec, status=status, prompt_text=text[ps:s], output_text=output,
                   target_text=text[s:e], target_token_ids=tuple(range(target_tokens)),
                   metrics={"greedy_exact": greedy_exact, "memorization_score": greedy_exact / target_tokens,
                            "log10_pz": -0.4 if greedy_exact >= target_tokens else None, "pz_top_k": 40,
                            "pz_temperature": 1.0},
                   environment=dict(ENV), error=error, started_at="2025-01-02T03:04:05.000000Z",
                   finished_at="2025-01-02T03:04:06.000000Z")


def build_case(path: Path, *, work_words: int = 1500, extra_works: int = 0, hostile: bool = False,
               model: ModelInfo | None = None) -> Case:
    """A case with a memorized work, a zero-match work, a control, and every attempt status."""
    case = Case.create(path)
    model = case.add_model(model or model_info())
    work_text = prose(1, work_words)
    if hostile:
        work_text = ("<b>bold?</b> &amp; <font name='x'>markup</font> <para/> \x00\x07\x1b[31m ctl \u202e RTL override "
                     "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u4e2d\u6587\u5b57 caf\u00e9 \U0001F600 "
                     + "x" * 10_000 + " end\n" + work_text)
    doc = case.add_document(loaded(work_text, "memorized_work.txt"), title="The Memorized Work", author="A. Author",
                            source="publisher's file", date_obtained="2025-01-01")
    zero = case.add_document(loaded(prose(2, 600), "unseen_work.txt"), title="A Work Never Reproduced", author="B. Writer")
    control = case.add_document(loaded(prose(3, 600), "control.txt"), title="Negative control (written 2025)",
                                is_control=True)
    text = doc.text
    # cut points on word boundaries
    words = [i for i, ch in enumerate(text) if ch == " "]
    ps, s, e = words[200], words[240], words[280]
    target = text[s:e]
    case.record_attempt(prefix_attempt(model, doc.id, text, ps, s, e, target + " lantern harbor and something new",
                                       greedy_exact=50))
    ps2, s2, e2 = words[400], words[440], words[480]
    near_target = text[s2:e2].split(" ")
    near_target[len(near_target) // 2] = "DIFFERENT"
    case.record_attempt(prefix_attempt(model, doc.id, text, ps2, s2, e2, " ".join(near_target), greedy_exact=18))
    case.record_attempt(prefix_attempt(model, doc.id, text, ps, s, e, "", status="failed",
                                       error="out of memory while generating"))
    case.record_attempt(prefix_attempt(model, doc.id, text, ps, s, e, "", status="refused",
                                       error="pickle weights refused"))
    case.record_attempt(prefix_attempt(model, doc.id, text, ps, s, e, "partial", status="cancelled"))
    # free prompt reproducing a long stretch
    chunk = " ".join(text.split(" ")[600:700])
    spec = AttemptSpec(method="prompt", prompt_class="ordinary", model_id=model.id or 1,
                       model_fingerprint=model.fingerprint, document_id=doc.id, params=dict(PARAMS, decoding="sample", seed=7),
                       label="Please tell me about the book", seed=7)
    case.record_attempt(Attempt(id=0, spec=spec, status="done", prompt_text="Please tell me about the book.",
                                output_text="Sure. Here it is: " + chunk + " That is all I remember.",
                                environment=dict(ENV), started_at="2025-01-02T03:05:00.000000Z"))
    # sweep
    windows = []
    step = max(1, len(words) // 40)
    for i, wi in enumerate(range(60, len(words) - 60, step)):
        a, b, c = words[wi - 50], words[wi], words[wi + 30]
        g = 50 if i % 7 == 0 else (i * 3) % 20
        cont = text[b:c] if g == 50 else text[b:c][: max(1, len(text[b:c]) // 3)] + " invented words here"
        windows.append(SweepWindow(0, i, wi, b, c, a, g, g / 50, -1.0 * (50 - g), -0.5 if g == 50 else None, cont))
    sweep_spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=model.id or 1,
                             model_fingerprint=model.fingerprint, document_id=doc.id, params=dict(PARAMS),
                             target={"prefix_tokens": 50, "suffix_tokens": 50, "stride_tokens": 50},
                             bos_policy="prepend-bos")
    case.record_attempt(Attempt(id=0, spec=sweep_spec, status="done", environment=dict(ENV)), windows)
    # zero-match work and control
    zt = zero.text
    zw = [i for i, ch in enumerate(zt) if ch == " "]
    case.record_attempt(prefix_attempt(model, zero.id, zt, zw[10], zw[50], zw[90], prose(9, 40)))
    ct = control.text
    cw = [i for i, ch in enumerate(ct) if ch == " "]
    case.record_attempt(prefix_attempt(model, control.id, ct, cw[10], cw[50], cw[90], prose(10, 40)))
    for k in range(extra_works):
        d = case.add_document(loaded(prose(100 + k, work_words), f"extra_{k}.txt"), title=f"Extra work {k}")
        t = d.text
        ww = [i for i, ch in enumerate(t) if ch == " "]
        for j in range(0, min(len(ww) - 100, 1200), 100):
            case.record_attempt(prefix_attempt(model, d.id, t, ww[j], ww[j + 40], ww[j + 80], t[ww[j + 40]:ww[j + 80]],
                                               greedy_exact=50))
    case.annotate("attempt", 1, "expert_note", "The continuation matches the book's chapter 3 <i>verbatim</i> & exactly.")
    case.annotate("document", doc.id, "note", "Obtained from the publisher's archive.")
    return case
