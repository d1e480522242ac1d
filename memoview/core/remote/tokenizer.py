"""The tokenizer of a served model, held locally.

A server returns text (and, for prompt log-probs, token *strings*); windows,
offsets and "which tokens were scored" need the model's own token ids. The
examiner therefore names the model's tokenizer: a Hugging Face folder (its
``tokenizer.json``) or the GGUF file the server runs. It is loaded offline,
never with remote code, and its files are fingerprinted so the case records
which tokenizer mapped the server's answers. Without one, a served model can
still run free and chat prompts (text in, text out) but not scoring or sweeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.jobs import run_job
from memoview.core.models.fingerprint import hash_file


@dataclass
class LocalTokenizer:
    """transformers tokenizer of a served model, with the facts the engine protocol needs."""

    path: str
    tokenizer: Any
    sha256: str  # of the tokenizer file (tokenizer.json or the GGUF)

    @classmethod
    def load(cls, path: str | Path) -> "LocalTokenizer":
        p = Path(path).expanduser()
        if not p.exists():
            raise errors.ModelNotFoundError(f"No tokenizer at {p}.",
                                            "Give the served model's Hugging Face folder or its GGUF file.")
        from memoview.core.models.offline import enforce_offline

        enforce_offline()
        import transformers
        from transformers import AutoTokenizer

        transformers.utils.logging.set_verbosity_error()
        try:
            if p.is_file() and p.suffix.lower() == ".gguf":
                tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name, local_files_only=True,
                                                    trust_remote_code=False)
                hashed = p
            else:
                folder = p if p.is_dir() else p.parent
                tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
                candidates = [folder / "tokenizer.json", folder / "tokenizer.model"]
                hashed = next((c for c in candidates if c.is_file()), folder / "tokenizer_config.json")
        except Exception as exc:
            raise errors.MissingTokenizerError(
                f"The tokenizer at {p} cannot be loaded: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}.",
                "Give the served model's Hugging Face folder (with tokenizer.json) or its GGUF file.") from exc
        digest = run_job(hash_file(hashed, label=hashed.name))
        return cls(str(p), tok, str(digest[0]) if digest else "")

    @property
    def bos_token_id(self) -> Optional[int]:
        value = getattr(self.tokenizer, "bos_token_id", None)
        return int(value) if value is not None else None

    @property
    def eos_token_id(self) -> Optional[int]:
        value = getattr(self.tokenizer, "eos_token_id", None)
        return int(value) if value is not None else None

    @property
    def adds_bos(self) -> bool:
        bos = self.bos_token_id
        if bos is None:
            return False
        ids = self.tokenizer("a", add_special_tokens=True)["input_ids"]
        return bool(ids) and int(ids[0]) == bos

    @property
    def chat_template(self) -> Optional[str]:
        return getattr(self.tokenizer, "chat_template", None) or None

    def encode(self, text: str) -> list[int]:
        return [int(i) for i in self.tokenizer(text, add_special_tokens=False)["input_ids"]]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [int(i) for i in enc["input_ids"]], [(int(a), int(b)) for a, b in enc["offset_mapping"]]

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False))

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Each token's text as it extends the decoded prefix (what a server's echo returns per token)."""
        out: list[str] = []
        previous = ""
        for i in range(len(ids)):
            current = self.decode(ids[: i + 1])
            out.append(current[len(previous):] if current.startswith(previous) else current)
            previous = current
        return out


__all__ = ["LocalTokenizer"]
