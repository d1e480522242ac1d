"""What a path dropped on the window (or given to it) is: a model to open or a document to import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MODEL_SUFFIXES = (".gguf",)


def looks_like_model(path: Path) -> bool:
    """A Hugging Face folder (has config.json) or a GGUF file; everything else is a document."""
    if path.is_dir():
        return (path / "config.json").exists() or any(path.glob("*.gguf"))
    return path.suffix.lower() in MODEL_SUFFIXES


@dataclass(frozen=True)
class DroppedPaths:
    """Dropped paths sorted: ``other_folders`` are folders that are not models (refused with a message)."""

    models: list[Path]
    documents: list[Path]
    other_folders: list[Path]


def sort_dropped(paths: list[Path]) -> DroppedPaths:
    models = [p for p in paths if looks_like_model(p)]
    rest = [p for p in paths if p not in models]
    return DroppedPaths(models=models, documents=[p for p in rest if not p.is_dir()],
                        other_folders=[p for p in rest if p.is_dir()])
