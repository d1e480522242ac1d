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
        """A GGUF through llama.cpp's own vocabulary when llama-cpp-python is installed (the ids a llama.cpp
        server makes, byte for byte), else through transformers."""
        p = Path(path).expanduser()
        if not p.exists():
            raise errors.ModelNotFoundError(f"No tokenizer at {p}.",
                                            "Give the served model's Hugging Face folder or its GGUF file.")
        if p.is_file() and p.suffix.lower() == ".gguf":
            try:
                import llama_cpp  # noqa: F401
            except ImportError:
                pass
            else:
                return LlamaVocabTokenizer.load_gguf(p)
        from memoview.core.models.offline import enforce_offline

        enforce_offline()
        import transformers
        from transformers import AutoTokenizer

        hf_logging: Any = transformers.utils.logging  # untyped functions
        hf_logging.set_verbosity_error()
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


class LlamaVocabTokenizer(LocalTokenizer):
    """llama.cpp's tokenizer of a GGUF (vocabulary only, no weights): what llama.cpp's server itself uses.

    Text is tokenized as the server tokenizes a prompt (special-token strings parsed, no BOS);
    offsets come from each token's bytes, which must spell the text exactly.
    """

    @classmethod
    def load_gguf(cls, p: Path) -> "LlamaVocabTokenizer":
        from llama_cpp import Llama

        try:
            llm = Llama(model_path=str(p), vocab_only=True, verbose=False)
        except Exception as exc:  # noqa: BLE001 - llama.cpp raises plain ValueError/RuntimeError
            raise errors.MissingTokenizerError(f"llama.cpp cannot read the vocabulary of {p.name}: {exc}.",
                                               "Give the served model's GGUF file or Hugging Face folder.") from exc
        digest = run_job(hash_file(p, label=p.name))
        return cls(str(p), llm, str(digest[0]) if digest else "")

    @property
    def bos_token_id(self) -> Optional[int]:
        t = int(self.tokenizer.token_bos())
        return None if t < 0 else t

    @property
    def eos_token_id(self) -> Optional[int]:
        t = int(self.tokenizer.token_eos())
        return None if t < 0 else t

    @property
    def adds_bos(self) -> bool:
        return self.bos_token_id is not None and bool(self.tokenizer._model.add_bos_token())

    @property
    def chat_template(self) -> Optional[str]:
        return self.tokenizer.metadata.get("tokenizer.chat_template") or None

    def _piece(self, token: int) -> bytes:
        import ctypes

        import llama_cpp

        vocab = self.tokenizer._model.vocab
        buf = ctypes.create_string_buffer(64)
        n = llama_cpp.llama_token_to_piece(vocab, int(token), buf, len(buf), 0, True)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(vocab, int(token), buf, len(buf), 0, True)
        return buf.raw[:n]

    def encode(self, text: str) -> list[int]:
        """As llama.cpp's server tokenizes a prompt: special-token strings parsed, no BOS; any length."""
        import llama_cpp

        data = text.encode("utf-8")
        vocab = self.tokenizer._model.vocab
        n_max = len(data) + 16
        buf = (llama_cpp.llama_token * n_max)()
        n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, n_max, False, True)
        if n < 0:
            n_max = -n
            buf = (llama_cpp.llama_token * n_max)()
            n = llama_cpp.llama_tokenize(vocab, data, len(data), buf, n_max, False, True)
        return [int(buf[i]) for i in range(n)]

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        from memoview.core.engines.byte_offsets import char_offsets

        ids = self.encode(text)
        offsets = char_offsets(text, [self._piece(t) for t in ids])
        if offsets is None:
            raise errors.TokenizationMismatchError(
                "llama.cpp's tokens of this text do not spell it back byte for byte, so their character offsets "
                "cannot be recovered.", "Give the model's Hugging Face tokenizer folder as --tokenizer instead.")
        return ids, offsets

    def decode(self, ids: Sequence[int]) -> str:
        return b"".join(self._piece(int(t)) for t in ids).decode("utf-8", "replace")

    def pieces(self, ids: Sequence[int]) -> list[str]:
        """Each token's text as llama.cpp's server echoes it (its own bytes; a split character gives '')."""
        return [self._piece(int(t)).decode("utf-8", "ignore") for t in ids]


__all__ = ["LlamaVocabTokenizer", "LocalTokenizer"]
