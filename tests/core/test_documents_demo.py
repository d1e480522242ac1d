"""The demo corpus: manifest, provenance and files agree, and every text imports."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from memoview.core.case import Case
from memoview.core.documents.load import load_document
from memoview.paths import resource

DEMO = resource("demo")


def _manifest() -> list[dict[str, object]]:
    return list(json.loads((DEMO / "corpus.json").read_text(encoding="utf-8"))["documents"])


def test_manifest_lists_every_file_with_its_provenance() -> None:
    entries = _manifest()
    listed = {str(e["file"]) for e in entries}
    on_disk = {p.name for p in DEMO.iterdir()} - {"corpus.json", "PROVENANCE.md", "protocol.toml"}
    assert listed == on_disk
    for entry in entries:
        for key in ("title", "author", "source", "date", "terms"):
            assert str(entry[key]).strip(), (entry["file"], key)
        assert isinstance(entry["is_control"], bool)
    assert sum(bool(e["is_control"]) for e in entries) >= 2
    assert sum(not e["is_control"] for e in entries) >= 4
    assert len({e["title"] for e in entries}) == len(entries)  # titles resolve documents


def test_provenance_names_each_file_with_its_current_sha256() -> None:
    provenance = (DEMO / "PROVENANCE.md").read_text(encoding="utf-8")
    for entry in _manifest():
        name = str(entry["file"])
        digest = hashlib.sha256((DEMO / name).read_bytes()).hexdigest()
        row = next((line for line in provenance.splitlines() if f"`{name}`" in line), "")
        assert row, f"PROVENANCE.md has no row for {name}"
        assert digest in row, f"PROVENANCE.md's SHA-256 for {name} is stale"
        terms = "CC0" if entry["is_control"] else ("freely redistributable" if "mit" in name else "Public domain")
        assert terms in row


def test_demo_texts_keep_their_original_wording() -> None:
    constitution = (DEMO / "us_constitution_articles_1-3.txt").read_text(encoding="utf-8")
    assert constitution.startswith("We the People of the United States, in Order to form a more perfect Union, "
                                   "establish Justice, insure domestic Tranquility, provide for the common defence,")
    for spelling in ("chuse", "encreased", "executing it's inspection Laws", "Controul", "Article. III."):
        assert spelling in constitution
    assert constitution.rstrip().endswith("except during the Life of the Person attainted.")
    declaration = (DEMO / "declaration_of_independence.txt").read_text(encoding="utf-8")
    for phrase in ("hath shewn", "to harrass our people", "to compleat the works of death", "Brittish brethren",
                   "our Lives, our Fortunes and our sacred Honor."):
        assert phrase in declaration
    gettysburg = (DEMO / "gettysburg_address_bliss.txt").read_text(encoding="utf-8")
    assert gettysburg.startswith("Four score and seven years ago our fathers brought forth on this continent, "
                                 "a new nation, conceived in Liberty,")
    assert "under God" in gettysburg  # the Bliss copy has it; the Nicolay copy does not
    assert gettysburg.rstrip().endswith("shall not perish from the earth.")
    mit = (DEMO / "mit_license.txt").read_text(encoding="utf-8")
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in mit


def test_controls_say_they_are_fictional_and_are_long_enough() -> None:
    for entry in _manifest():
        if not entry["is_control"]:
            continue
        text = (DEMO / str(entry["file"])).read_text(encoding="utf-8")
        assert re.search(r"fiction|written for the memoview", text, re.IGNORECASE)
        assert 300 <= len(text.split()) <= 600


def test_every_demo_text_imports_with_its_manifest_provenance(case_path: Path) -> None:
    with Case.create(case_path) as case:
        for entry in _manifest():
            loaded = load_document(DEMO / str(entry["file"]))
            assert loaded.encoding == "utf-8" and "\r" not in loaded.text
            assert loaded.text == (DEMO / str(entry["file"])).read_bytes().decode("utf-8")
            case.add_document(loaded, title=str(entry["title"]), author=str(entry["author"]),
                              source=str(entry["source"]), date_obtained=str(entry["date"]),
                              is_control=bool(entry["is_control"]))
        controls = [d.title for d in case.documents() if d.is_control]
        assert len(controls) >= 2
        assert case.resolve_document("Declaration of Independence").filename == "declaration_of_independence.txt"
