"""Campaigns: a protocol file run headless, resumable without repeating work.

The protocol (TOML or JSON) is hashed and stored in the case before the
first attempt runs, so what was planned is on record before any result.
Each step has a stable ``campaign_key`` (step number, method, document,
passage) and each sample an index; an attempt is committed as it finishes,
so a killed run loses at most the attempt in flight and a rerun skips every
(key, sample) already in the case.

Protocol shape::

    name = "pilot"
    model = "path/or/registered-name"      # optional; the CLI's --model wins
    [[steps]]
    method = "prefix"                      # a key of the method catalogue: prefix | pz | sweep | prompt | chat | membership
    documents = ["all"]                    # ids, titles, SHA-256 prefixes, "all", "controls", "works"
    token_starts = [50, 100]               # prefix/pz: passages (or char_starts / selections)
    prefix = 50
    suffix = 50
    decoding = "greedy"
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import catalogue
from memoview.core.extraction.attempts import PrefixRequest, run_prefix
from memoview.core.extraction.membership import run_membership
from memoview.core.extraction.prompts import PromptRequest, run_prompt
from memoview.core.extraction.sweep import SweepRequest, run_sweep
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.engines.base import Engine
from memoview.core.models.base import LoadedModel
from memoview.core.records import Document, Method, Protocol

METHODS = catalogue.KEYS


@dataclass(frozen=True)
class CampaignStep:
    key: str
    method: str
    document: Optional[Document]
    options: dict[str, Any]
    samples: int


def read_protocol(path: str | Path) -> tuple[str, str, dict[str, Any]]:
    """(content, format, parsed); parse errors name the file and line."""
    p = Path(path)
    if not p.is_file():
        raise errors.ValidationError(f"No protocol file at {p}.", "Give a .toml or .json protocol file.")
    try:
        content = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise errors.ValidationError(f"The protocol {p.name} is not UTF-8 text (byte {exc.start}).",
                                     "Save it as UTF-8.") from None
    fmt = "json" if p.suffix.lower() == ".json" else "toml"
    try:
        data = json.loads(content) if fmt == "json" else tomllib.loads(content)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise errors.ValidationError(f"The protocol {p.name} cannot be read as {fmt.upper()}: {exc}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise errors.ValidationError(f"The protocol {p.name} has no [[steps]].",
                                     "Add at least one step with a method and documents.")
    return content, fmt, data


def _documents(case: Case, refs: Any, step_no: int) -> list[Document]:
    if refs is None:
        return []
    if isinstance(refs, (str, int)):
        refs = [refs]
    docs: list[Document] = []
    for ref in refs:
        if ref == "all":
            docs.extend(case.documents())
        elif ref == "controls":
            docs.extend(d for d in case.documents() if d.is_control)
        elif ref == "works":
            docs.extend(d for d in case.documents() if not d.is_control)
        else:
            docs.append(case.resolve_document(ref))
    seen: set[int] = set()
    unique: list[Document] = []
    for d in docs:
        if d.id not in seen:
            seen.add(d.id)
            unique.append(d)
    return unique


def _pick(cls: Any, options: dict[str, Any], step_no: int) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(options) - names
    if unknown:
        raise errors.ValidationError(f"Step {step_no}: unknown parameter(s) {', '.join(sorted(unknown))}.",
                                     f"Allowed: {', '.join(sorted(names))}.")
    return cls(**options)


def plan(case: Case, data: dict[str, Any]) -> list[CampaignStep]:
    """Expand the protocol into steps with stable keys; validates everything before any run."""
    steps: list[CampaignStep] = []
    for no, raw in enumerate(data["steps"], start=1):
        if not isinstance(raw, dict):
            raise errors.ValidationError(f"Step {no} is not a table.")
        raw = dict(raw)
        method = raw.pop("method", None)
        info = catalogue.find(method) if isinstance(method, str) else None
        if info is None:
            raise errors.ValidationError(f"Step {no}: unknown method '{method}'.", f"Use one of: {', '.join(METHODS)}.")
        method = info.key
        docs = _documents(case, raw.pop("documents", None), no)
        if info.needs_document and not docs:
            raise errors.ValidationError(f"Step {no} ({method}) lists no documents.")
        if info.needs is catalogue.Needs.PASSAGE:
            starts = [("token_start", s) for s in raw.pop("token_starts", [])]
            starts += [("char_start", s) for s in raw.pop("char_starts", [])]
            starts += [("select", s) for s in raw.pop("selections", [])]
            if not starts:
                raise errors.ValidationError(f"Step {no} ({method}) gives no token_starts, char_starts or selections.")
            for d in docs:
                for kind, value in starts:
                    opts = {**raw, kind: value}
                    req = _pick(PrefixRequest, opts, no)
                    req.validate()
                    n = req.params()["n_samples"] if info.method is Method.PREFIX else 1
                    steps.append(CampaignStep(f"{no}:{method}:doc{d.id}:{kind}={value}", method, d, opts, n))
        elif info.method is Method.SWEEP:
            # Older protocols named the sweep's p_z scheme top_k/temperature; it is pz_top_k/pz_temperature now.
            for old, new in (("top_k", "pz_top_k"), ("temperature", "pz_temperature")):
                if old in raw and new not in raw:
                    raw[new] = raw.pop(old)
            req = _pick(SweepRequest, raw, no)
            req.validate()
            steps.extend(CampaignStep(f"{no}:sweep:doc{d.id}", method, d, raw, 1) for d in docs)
        elif info.method is Method.MEMBERSHIP:
            k = raw.pop("k_percent", 20.0)
            if raw:
                raise errors.ValidationError(f"Step {no}: unknown parameter(s) {', '.join(sorted(raw))}.")
            steps.extend(CampaignStep(f"{no}:membership:doc{d.id}", method, d, {"k_percent": k}, 1) for d in docs)
        else:
            if info.method is Method.CHAT:
                raw.setdefault("messages", raw.pop("chat", None))
            req = _pick(PromptRequest, raw, no)
            req.validate()
            target_docs: list[Optional[Document]] = list(docs) or [None]
            for target in target_docs:
                steps.append(CampaignStep(f"{no}:{method}:doc{'-' if target is None else target.id}", method,
                                          target, raw, req.params()["n_samples"]))
    return steps


def store_protocol(case: Case, path: str | Path) -> tuple[Protocol, dict[str, Any]]:
    content, fmt, data = read_protocol(path)
    name = str(data.get("name") or Path(path).stem)
    return case.add_protocol(name, content, fmt), data


def pending_attempts(case: Case, protocol: Protocol, data: dict[str, Any]) -> tuple[int, int]:
    """(planned, still to run): lets a caller skip loading the model when a
    rerun of a finished campaign has nothing left to do."""
    steps = plan(case, data)
    planned = sum(s.samples for s in steps)
    have = sum(1 for s in steps for i in range(s.samples)
               if case.campaign_attempt(protocol.id, s.key, i) is not None)
    return planned, planned - have


def run_step(case: Case, lm: Engine | LoadedModel, protocol: Protocol, step: CampaignStep, have: set[int],
             cancel: Optional[CancelToken] = None) -> Job[int]:
    """Run the samples of one step that are not in ``have``; returns how many attempts were recorded."""
    info = catalogue.get(step.method)
    key = step.key
    if info.needs is catalogue.Needs.PROMPT:
        out = yield from run_prompt(case, lm, PromptRequest(**step.options), document=step.document,
                                    skip=lambda i: i in have, cancel=cancel, protocol_id=protocol.id, campaign_key=key)
        return len(out)
    if step.document is None:  # plan() refuses such a step; a hand-made one is refused here
        raise errors.ValidationError(f"Step {key} ({step.method}) has no document.")
    if info.method is Method.SWEEP:
        yield from run_sweep(case, lm, step.document, SweepRequest(**step.options), cancel=cancel,
                             protocol_id=protocol.id, campaign_key=key)
        return 1
    if info.method is Method.MEMBERSHIP:
        yield from run_membership(case, lm, step.document, k_percent=float(step.options["k_percent"]), cancel=cancel,
                                  protocol_id=protocol.id, campaign_key=key)
        return 1
    out = yield from run_prefix(case, lm, step.document, PrefixRequest(**step.options), method=info.key,
                                skip=lambda i: i in have, cancel=cancel, protocol_id=protocol.id, campaign_key=key)
    return len(out)


def done_samples(case: Case, protocol: Protocol, step: CampaignStep) -> set[int]:
    """The sample indexes of ``step`` already in the case (what a resumed run skips)."""
    return {i for i in range(step.samples) if case.campaign_attempt(protocol.id, step.key, i) is not None}


def run_campaign(case: Case, lm: Engine | LoadedModel, protocol: Protocol, data: dict[str, Any],
                 cancel: Optional[CancelToken] = None) -> Job[dict[str, int]]:
    """Run every step not yet in the case; returns counts (run, skipped)."""
    steps = plan(case, data)
    total = sum(s.samples for s in steps)
    done = skipped = ran = 0
    for step in steps:
        if cancel is not None and cancel.cancelled:
            break
        have = done_samples(case, protocol, step)
        skipped += len(have)
        done += len(have)
        if len(have) == step.samples:
            continue
        yield Progress(done, total, f"{step.key}")
        ran += yield from run_step(case, lm, protocol, step, have, cancel)
        done += step.samples - len(have)
    yield Progress(total, total, "campaign done")
    return {"steps": len(steps), "attempts_planned": total, "attempts_run": ran, "attempts_skipped": skipped}
