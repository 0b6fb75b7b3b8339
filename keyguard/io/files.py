"""Checks on an input path before a reader opens it, and the streamed SHA-256 of its bytes.

Every reader starts with :func:`check_capture_file` so that a missing file, a directory or an
empty file gives the same one-line :class:`~keyguard.errors.InputError` whatever the format.
Inputs are only ever opened for reading.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from keyguard.errors import CaptureError, CaptureFormatError, CaptureNotFoundError

#: Bytes read per step when hashing: large enough to be fast, small enough to be bounded.
HASH_CHUNK = 1 << 20


def check_capture_file(path: str | Path, *, allow_empty: bool = False) -> Path:
    """Return ``path`` as a Path if it names a readable, non-empty regular file.

    Raises CaptureNotFoundError (missing, a directory, not a regular file, unreadable) or
    CaptureFormatError (empty, unless ``allow_empty``).
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CaptureNotFoundError("no such file", p, "check the path") from None
    except PermissionError:
        raise CaptureNotFoundError("permission denied", p, "make the file readable") from None
    except OSError as e:
        raise CaptureNotFoundError(f"cannot open: {e.strerror or e}", p) from None
    if stat.S_ISDIR(st.st_mode):
        raise CaptureNotFoundError("is a directory, not a capture file",
                                   p, "name the files inside it")
    if not stat.S_ISREG(st.st_mode):
        raise CaptureNotFoundError("is not a regular file", p,
                                   "keyguard reads capture files, not devices or pipes")
    if not os.access(p, os.R_OK):
        raise CaptureNotFoundError("permission denied", p, "make the file readable")
    if st.st_size == 0 and not allow_empty:
        raise CaptureFormatError("file is empty (0 bytes)", p,
                                 "the recording was not written; record again")
    return p


def sha256_file(path: str | Path, offset: int = 0, length: int | None = None) -> str:
    """Hex SHA-256 of ``length`` bytes of a file from ``offset`` (to the end if None), streamed."""
    h = hashlib.sha256()
    remaining = length
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            while remaining is None or remaining > 0:
                n = HASH_CHUNK if remaining is None else min(HASH_CHUNK, remaining)
                chunk = f.read(n)
                if not chunk:
                    break
                h.update(chunk)
                if remaining is not None:
                    remaining -= len(chunk)
    except OSError as e:
        raise CaptureError(f"cannot read: {e.strerror or e}", path) from None
    return h.hexdigest()
