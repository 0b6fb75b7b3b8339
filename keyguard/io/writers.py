"""Writing raw I/Q files: cu8, cs8, cs16, cf32 from an array or a stream of blocks.

The inverse of :mod:`keyguard.io.raw`: a complex value x (full scale ±1.0) is stored as
round(x·127.5 + 127.5) for cu8, round(x·128) for cs8, round(x·32768) for cs16 (clipped to the
integer range) and as is for cf32. Reading a file and writing it back gives the same bytes.
SigMF recordings are written by :func:`keyguard.io.sigmf_io.write_sigmf`, which uses this.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keyguard.io.capture import SampleBlock
from keyguard.io.raw import SAMPLE_FORMATS, SampleFormat

WRITABLE_FORMATS = ("cu8", "cs8", "cs16", "cf32")


@dataclass(frozen=True)
class WriteResult:
    """What was written: path, format, complex samples, bytes, and the SHA-512 (hex) if asked."""

    path: Path
    fmt: str
    num_samples: int
    num_bytes: int
    sha512: str | None = None


def encode(samples: np.ndarray, fmt: str | SampleFormat) -> np.ndarray:
    """complex samples → the stored interleaved components of ``fmt`` (an array to write)."""
    sf = SAMPLE_FORMATS[fmt] if isinstance(fmt, str) else fmt
    x = np.asarray(samples)
    if not np.iscomplexobj(x):
        x = x.astype(np.complex64)
    comp = np.ascontiguousarray(x, dtype=np.complex64).view(np.float32)
    if not np.isfinite(comp).all():
        raise ValueError("cannot write NaN or infinite samples")
    if not sf.integer:
        return comp.astype(sf.dtype, copy=False)
    info = np.iinfo(sf.dtype)
    v = comp.astype(np.float64) * sf.full_scale + sf.zero
    np.rint(v, out=v)
    np.clip(v, info.min, info.max, out=v)
    return v.astype(sf.dtype)


def write_iq(path: str | Path, samples: np.ndarray | Iterable, fmt: str, *,
             overwrite: bool = False, sha512: bool = False) -> WriteResult:
    """Write complex samples to a raw ``fmt`` file (cu8, cs8, cs16, cf32), streaming.

    samples: a complex array, or an iterable of complex arrays or SampleBlocks (a block's
    ``overlap`` leading samples repeat the previous block and are skipped, so
    ``write_iq(p, capture.blocks(overlap=n), ...)`` copies a capture).
    overwrite: refuse to replace an existing file unless True (inputs are never clobbered).
    sha512: also return the SHA-512 of the bytes written (SigMF's ``core:sha512``).
    """
    if fmt not in WRITABLE_FORMATS:
        raise ValueError(f"cannot write format {fmt!r}; writable: {', '.join(WRITABLE_FORMATS)}")
    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: already exists (pass overwrite=True to replace it)")
    h = hashlib.sha512() if sha512 else None
    n_samples = n_bytes = 0
    chunks = [samples] if isinstance(samples, np.ndarray) else samples
    tmp = p.with_name(p.name + ".part")
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                if isinstance(chunk, SampleBlock):
                    chunk = chunk.samples[chunk.overlap:]
                data = encode(np.ravel(chunk), fmt).tobytes()
                f.write(data)
                if h is not None:
                    h.update(data)
                n_samples += np.size(chunk)
                n_bytes += len(data)
        os.replace(tmp, p)  # a crash mid-write never leaves a truncated file under the real name
    finally:
        if tmp.exists():
            tmp.unlink()
    return WriteResult(path=p, fmt=fmt, num_samples=n_samples, num_bytes=n_bytes,
                       sha512=None if h is None else h.hexdigest())
