"""The method catalogue: one entry per stored method, read by the CLI, campaigns, the run dispatch and the exhibit."""

from __future__ import annotations

import dataclasses

import pytest

from memoview.core import errors
from memoview.core.extraction import catalogue
from memoview.core.extraction.attempts import PrefixRequest
from memoview.core.extraction.campaign import METHODS as CAMPAIGN_METHODS
from memoview.core.extraction.membership import MembershipRequest
from memoview.core.extraction.prompts import PromptRequest
from memoview.core.extraction.sweep import SweepRequest
from memoview.core.records import Method, PromptClass


def test_every_stored_method_has_one_entry() -> None:
    assert [m.method for m in catalogue.METHODS] == list(Method)
    assert catalogue.KEYS == tuple(m.value for m in Method) == CAMPAIGN_METHODS
    for info in catalogue.METHODS:
        assert info.name and info.short_name and info.noun and info.explanation and info.literature
        assert isinstance(info.prompt_class, PromptClass)
        assert dataclasses.is_dataclass(info.request_type())


def test_request_types_and_needs() -> None:
    assert catalogue.get("prefix").request_type() is PrefixRequest
    assert catalogue.get(Method.PZ).request_type() is PrefixRequest
    assert catalogue.get("sweep").request_type() is SweepRequest
    assert catalogue.get("chat").request_type() is PromptRequest
    assert catalogue.get("membership").request_type() is MembershipRequest
    assert catalogue.methods_needing(catalogue.Needs.PASSAGE) == ("prefix", "pz")
    assert not catalogue.get("prompt").needs_document and catalogue.get("sweep").needs_document


def test_unknown_method_is_refused_and_shown_as_stored() -> None:
    with pytest.raises(errors.ValidationError, match="Unknown method 'nope'"):
        catalogue.get("nope")
    assert catalogue.display_name("nope") == "nope" and catalogue.noun("nope") == "nope attempt"
    assert catalogue.display_name("sweep") == "Whole-work sweep"


def test_defaults_are_the_request_dataclasses_own() -> None:
    defaults = catalogue.request_defaults(PrefixRequest)
    assert PrefixRequest(**defaults) == PrefixRequest()
    assert catalogue.get("sweep").default_request() == SweepRequest()
    assert catalogue.get("prompt").defaults()["n_samples"] == PromptRequest().n_samples


def test_cli_defaults_come_from_the_requests() -> None:
    from memoview.cli import build_parser

    parser = build_parser()
    ex = parser.parse_args(["extract", "c.memoview", "--model", "m", "--document", "1", "--token-start", "0"])
    assert (ex.prefix, ex.suffix, ex.pz_top_k, ex.decoding, ex.prompt_class) == (
        PrefixRequest.prefix, PrefixRequest.suffix, PrefixRequest.pz_top_k, PrefixRequest.decoding,
        PrefixRequest.prompt_class)
    sw = parser.parse_args(["sweep", "c.memoview", "--model", "m", "--document", "1"])
    assert (sw.stride, sw.top_k, sw.generate_best, sw.batch_size) == (
        SweepRequest.stride, SweepRequest.pz_top_k, SweepRequest.generate_best, SweepRequest.batch_size)
    pr = parser.parse_args(["prompt", "c.memoview", "--model", "m", "--text", "hi"])
    assert (pr.decoding, pr.max_new_tokens, pr.prompt_class) == (
        PromptRequest.decoding, PromptRequest.max_new_tokens, PromptRequest.prompt_class)
    mb = parser.parse_args(["membership", "c.memoview", "--model", "m", "--document", "1"])
    assert mb.k_percent == MembershipRequest.k_percent


def test_build_request_from_form_fields() -> None:
    req = catalogue.build_request("prefix", {"prefix": 20}, passage_start=100)
    assert req == PrefixRequest(prefix=20, char_start=100)
    chat = catalogue.build_request("chat", {"messages": [{"role": "user", "content": "hi"}]})
    assert isinstance(chat, PromptRequest) and chat.text is None
    assert catalogue.build_request("prompt", {}, prompt_text="hello").text == "hello"
    with pytest.raises(errors.ValidationError, match="not understood"):
        catalogue.build_request("sweep", {"no_such_field": 1})
