"""Opening zip-based documents (docx, EPUB) without trusting what the archive says about itself.

A zip bomb declares small sizes and inflates to gigabytes, or declares one
member thousands of times over the same compressed bytes. So nothing here
trusts a declared size: :func:`check_archive` inflates every member as a
stream and counts the bytes actually produced, stopping as soon as the count
passes the limit (memory use stays at one chunk), and refuses archives with
absurd member counts. Format sniffing reads at most a few bytes of one
member (:func:`read_head`). Both run before any format library sees the file.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from memoview.core.errors import DocumentError

MAX_MEMBERS = 10_000
CHUNK = 1 << 20


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n:,} bytes"


def read_head(zf: zipfile.ZipFile, member: str, size: int = 64) -> bytes:
    """The first ``size`` bytes of one member (never the whole member, whatever it declares)."""
    with zf.open(member) as handle:
        return handle.read(size)


def check_archive(raw: bytes, limit: int, name: str) -> int:
    """Inflate every member as a stream; refuse once more than ``limit`` bytes come out. Returns the total."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise DocumentError(f"{name} is an archive of {len(infos):,} members (more than {MAX_MEMBERS:,}); "
                                    "it was not unpacked.", "A real document has far fewer parts; check the file.")
            total = 0
            for info in infos:
                if info.is_dir():
                    continue
                with zf.open(info) as handle:
                    while True:
                        chunk = handle.read(CHUNK)
                        if not chunk:
                            break
                        total += len(chunk)
                        if total > limit:
                            raise DocumentError(
                                f"{name} unpacks to more than {_mb(limit)} (counted while inflating, member "
                                f"'{info.filename}'); it was not unpacked further.",
                                "This is what a zip bomb does; if it is really one document, raise the limit "
                                "with --max-mb.")
            return total
    except DocumentError:
        raise
    except RuntimeError as exc:  # encrypted members
        raise DocumentError(f"{name} holds encrypted parts ({exc}).", "Save an unencrypted copy and import that.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
        raise DocumentError(f"{name} is a damaged archive ({type(exc).__name__}: {exc}).",
                            "Check that the file is complete; save it again from the program that made it.") from None
