"""Rows of the case file <-> typed records: the one place that knows the columns.

The case facade (:mod:`memoview.core.case`) stores and reads records through
these functions; verification (:mod:`memoview.core.integrity`) re-computes
the hashes logged with a row (:func:`attempt_record_hash`,
:func:`windows_hash`) from the same definitions, so what was logged and what
is checked cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Iterable

from memoview.core.documents.base import LoadedDocument
from memoview.core.records import (
    Annotation,
    Attempt,
    AttemptSpec,
    Document,
    ModelInfo,
    Protocol,
    SweepWindow,
)
from memoview.core.storage import audit

Row = dict[str, Any]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------- documents
def one_line(text: str) -> str:
    """A title taken from the file itself, collapsed onto one line."""
    return " ".join(text.split())[:500]


def document_row(loaded: LoadedDocument, *, title: str, author: str, source: str, date_obtained: str,
                 notes: str, is_control: bool, now: str) -> Row:
    """The ``documents`` row of an import (``title`` etc. empty: taken from the file)."""
    return {
        "title": title or one_line(loaded.title) or one_line(Path(loaded.filename).stem),
        "author": author or loaded.author,
        "source": source or loaded.path,
        "date_obtained": date_obtained or now[:10],
        "notes": notes,
        "filename": loaded.filename,
        "media_type": loaded.media_type,
        "byte_size": len(loaded.raw),
        "raw_sha256": loaded.raw_sha256,
        "text_sha256": loaded.text_sha256,
        "text": loaded.text,
        "extractor": loaded.extractor,
        "extractor_version": loaded.extractor_version,
        "encoding": loaded.encoding,
        "is_control": int(is_control),
        "imported_at": now,
    }


def document_from_row(row: Row) -> Document:
    return Document(
        id=int(row["id"]),
        title=row["title"] or "",
        author=row["author"] or "",
        source=row["source"] or "",
        date_obtained=row["date_obtained"] or "",
        notes=row["notes"] or "",
        filename=row["filename"] or "",
        media_type=row["media_type"] or "",
        byte_size=int(row["byte_size"] or 0),
        raw_sha256=row["raw_sha256"],
        text_sha256=row["text_sha256"],
        text=row["text"],
        extractor=row["extractor"] or "",
        extractor_version=row["extractor_version"] or "",
        encoding=row["encoding"] or "",
        is_control=bool(row["is_control"]),
        imported_at=row["imported_at"] or "",
    )


# ---------------------------------------------------------------------- models, protocols, annotations
def model_info_json(info: ModelInfo) -> str:
    return json.dumps(info.to_json(), sort_keys=True)


def model_from_row(row: Row) -> ModelInfo:
    data = json.loads(row["info_json"])
    data["id"] = int(row["id"])
    data["name"] = row["name"]
    return ModelInfo.from_json(data)


def protocol_from_row(row: Row) -> Protocol:
    return Protocol(**row)


def annotation_from_row(row: Row) -> Annotation:
    return Annotation(**row)


# ---------------------------------------------------------------------- attempts
def attempt_fields(attempt: Attempt) -> Row:
    """An attempt's fields by name (what :func:`attempt_row` maps onto columns)."""
    return {f.name: getattr(attempt, f.name) for f in fields(attempt)}


def attempt_row(attempt_fields: Row) -> Row:
    """Map Attempt fields onto columns (JSON for sequences and dicts)."""
    spec: AttemptSpec = attempt_fields["spec"]
    return {
        "method": spec.method,
        "prompt_class": spec.prompt_class,
        "model_id": spec.model_id,
        "document_id": spec.document_id,
        "protocol_id": attempt_fields.get("protocol_id"),
        "campaign_key": attempt_fields.get("campaign_key"),
        "sample_index": int(attempt_fields.get("sample_index", 0)),
        "status": attempt_fields["status"],
        "spec_json": audit.canonical_json(asdict(spec)),
        "prompt_text": attempt_fields.get("prompt_text", ""),
        "prompt_token_ids_json": json.dumps(list(attempt_fields.get("prompt_token_ids", ()))),
        "output_text": attempt_fields.get("output_text", ""),
        "output_token_ids_json": json.dumps(list(attempt_fields.get("output_token_ids", ()))),
        "token_logprobs_json": json.dumps(list(attempt_fields.get("token_logprobs", ()))),
        "token_ranks_json": json.dumps(list(attempt_fields.get("token_ranks", ()))),
        "target_text": attempt_fields.get("target_text", ""),
        "target_token_ids_json": json.dumps(list(attempt_fields.get("target_token_ids", ()))),
        "target_logprobs_json": json.dumps(list(attempt_fields.get("target_logprobs", ()))),
        "target_ranks_json": json.dumps(list(attempt_fields.get("target_ranks", ()))),
        "metrics_json": audit.canonical_json(attempt_fields.get("metrics", {})),
        "environment_json": audit.canonical_json(attempt_fields.get("environment", {})),
        "error": attempt_fields.get("error", ""),
        "started_at": attempt_fields.get("started_at", ""),
        "finished_at": attempt_fields.get("finished_at", ""),
        "output_sha256": attempt_fields.get("output_sha256", ""),
    }


def attempt_from_row(row: Row) -> Attempt:
    spec_data = json.loads(row["spec_json"])
    return Attempt(
        id=int(row["id"]),
        spec=AttemptSpec(**spec_data),
        status=row["status"],
        prompt_text=row["prompt_text"] or "",
        prompt_token_ids=tuple(json.loads(row["prompt_token_ids_json"] or "[]")),
        output_text=row["output_text"] or "",
        output_token_ids=tuple(json.loads(row["output_token_ids_json"] or "[]")),
        token_logprobs=tuple(json.loads(row["token_logprobs_json"] or "[]")),
        token_ranks=tuple(json.loads(row["token_ranks_json"] or "[]")),
        target_text=row["target_text"] or "",
        target_token_ids=tuple(json.loads(row["target_token_ids_json"] or "[]")),
        target_logprobs=tuple(json.loads(row["target_logprobs_json"] or "[]")),
        target_ranks=tuple(json.loads(row["target_ranks_json"] or "[]")),
        metrics=json.loads(row["metrics_json"] or "{}"),
        environment=json.loads(row["environment_json"] or "{}"),
        error=row["error"] or "",
        started_at=row["started_at"] or "",
        finished_at=row["finished_at"] or "",
        output_sha256=row["output_sha256"] or "",
        protocol_id=row["protocol_id"],
        campaign_key=row["campaign_key"],
        sample_index=int(row["sample_index"] or 0),
    )


def attempt_record_hash(row: Row) -> str:
    """Hash of everything an attempt recorded (spec and results), for the audit log."""
    keys = sorted(k for k in row if k not in ("id",))
    return sha256_hex(audit.legacy_hash_json({k: row[k] for k in keys}).encode("utf-8"))


# ---------------------------------------------------------------------- sweep windows
WINDOW_COLUMNS = ("idx", "start_token", "start_char", "end_char", "prefix_start_char", "greedy_exact",
                  "memorization_score", "log10_p", "log10_pz", "continuation")


def insert_windows(conn: sqlite3.Connection, attempt_id: int, windows: Iterable[SweepWindow]) -> None:
    conn.executemany(
        f"INSERT INTO sweep_windows(attempt_id, {', '.join(WINDOW_COLUMNS)})"
        f" VALUES ({', '.join('?' * (len(WINDOW_COLUMNS) + 1))})",
        [
            (attempt_id, w.index, w.start_token, w.start_char, w.end_char, w.prefix_start_char,
             w.greedy_exact, w.memorization_score, w.log10_p, w.log10_pz, w.continuation)
            for w in windows
        ],
    )


def windows_hash(conn: sqlite3.Connection, attempt_id: int) -> str:
    """Hash of an attempt's stored sweep windows, as logged with the attempt."""
    rows = conn.execute(
        f"SELECT {', '.join(WINDOW_COLUMNS)} FROM sweep_windows WHERE attempt_id = ? ORDER BY idx",
        (attempt_id,),
    ).fetchall()
    return sha256_hex(audit.legacy_hash_json([list(r) for r in rows]).encode("utf-8"))


def window_from_row(r: Row) -> SweepWindow:
    return SweepWindow(
        attempt_id=int(r["attempt_id"]),
        index=int(r["idx"]),
        start_token=int(r["start_token"]),
        start_char=int(r["start_char"]),
        end_char=int(r["end_char"]),
        prefix_start_char=int(r["prefix_start_char"]),
        greedy_exact=int(r["greedy_exact"]),
        memorization_score=float(r["memorization_score"]),
        log10_p=float(r["log10_p"]),
        log10_pz=None if r["log10_pz"] is None else float(r["log10_pz"]),
        continuation=r["continuation"],
    )
