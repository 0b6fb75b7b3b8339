"""Raw interleaved I/Q sample files: cu8, cs8, cs16, cf32 (and the other SigMF/WAV encodings).

A :class:`RawIQReader` reads any run of samples with a positional read (``os.pread``) on a
read-only file descriptor and converts it to complex64 at full scale ±1.0:
cu8 (b − 127.5)/127.5, cs8 b/128, cs16 v/32768, cf32 as is. It does not memory-map the file:
pages of a mapping that were read stay resident and count in the process's RSS, so a mapped
4 GB file would end up with a 4 GB RSS; a plain read keeps memory to one block.

The same reader serves the sample data inside SigMF archives and WAV files (a byte offset and a
length), so every IQ format shares one conversion, one NaN check and one partial-sample rule.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keyguard.errors import CaptureError, CaptureFormatError


@dataclass(frozen=True)
class SampleFormat:
    """How one complex sample is stored: two components of ``component`` dtype (I then Q).

    A component value v maps to (v − zero) / full_scale; ``integer`` formats can clip at their
    extremes, which :meth:`clip_levels` gives in the converted (float) scale.
    """

    name: str
    component: str
    zero: float = 0.0
    full_scale: float = 1.0

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.component)

    @property
    def bytes_per_sample(self) -> int:
        return 2 * self.dtype.itemsize

    @property
    def integer(self) -> bool:
        return self.dtype.kind in "iu"

    def clip_levels(self) -> tuple[float, float] | None:
        """The lowest and highest component values after conversion, or None for floats."""
        if not self.integer:
            return None
        info = np.iinfo(self.dtype)
        lo = np.float32((info.min - self.zero) / self.full_scale)
        hi = np.float32((info.max - self.zero) / self.full_scale)
        return float(lo), float(hi)

    def to_complex(self, components: np.ndarray) -> np.ndarray:
        """Interleaved components (I0, Q0, I1, ...) → complex64 at full scale ±1.0."""
        even = components.size % 2 == 0
        if self.integer and even and (self.dtype.itemsize > 1 or _arithmetic_exact(self)):
            # float32 arithmetic into a complex array of its own; for 8-bit formats 2-3x
            # faster than a table gather (no index array) and the table's value for every
            # byte (checked once per format)
            return self._scaled(components)
        if self.dtype.itemsize == 1 and even:
            # One 65536-entry table of complex values converts each (I, Q) byte pair in one
            # gather: a third faster than two float gathers (the IQ front end's hot path).
            return _pair_lut(self).take(components.view(np.uint8).view("<u2"))
        if self.dtype.itemsize == 1:
            # A 256-entry table converts 8-bit samples in one gather and gives exact extremes.
            x = _lut(self).take(components.view(np.uint8))
        elif self.integer:
            x = components.astype(np.float32)
            if self.zero:
                x -= np.float32(self.zero)
            x /= np.float32(self.full_scale)
        else:
            x = components.astype(np.float32, copy=False)  # cf32 LE: no copy
        return x.view(np.complex64)

    def _scaled(self, components: np.ndarray) -> np.ndarray:
        """An even number of integer components as complex64 (v − zero) / full_scale, in an
        array of its own (the burst detector keeps such blocks without copying them)."""
        out = np.empty(components.size // 2, dtype=np.complex64)
        x = out.view(np.float32)
        # the exact cast first, then float32 steps in place: the same values as one subtract
        # with a float32 loop, which casts through numpy's buffers in chunks (a fifth slower)
        x[...] = components
        if self.zero:
            x -= np.float32(self.zero)
        x /= np.float32(self.full_scale)
        return out


_LUTS: dict[str, np.ndarray] = {}


def _lut(fmt: SampleFormat) -> np.ndarray:
    if fmt.name not in _LUTS:
        v = np.arange(256, dtype=np.uint8).view(fmt.dtype).astype(np.float64)
        _LUTS[fmt.name] = ((v - fmt.zero) / fmt.full_scale).astype(np.float32)
    return _LUTS[fmt.name]


_ARITHMETIC_EXACT: dict[str, bool] = {}


def _arithmetic_exact(fmt: SampleFormat) -> bool:
    """Whether float32 (v − zero) / full_scale gives the 8-bit table's value for all 256 bytes."""
    if fmt.name not in _ARITHMETIC_EXACT:
        x = fmt._scaled(np.arange(256, dtype=np.uint8).view(fmt.dtype)).view(np.float32)
        _ARITHMETIC_EXACT[fmt.name] = bool(np.array_equal(x, _lut(fmt)))
    return _ARITHMETIC_EXACT[fmt.name]


_PAIR_LUTS: dict[str, np.ndarray] = {}


def _pair_lut(fmt: SampleFormat) -> np.ndarray:
    """complex64 value of every (I, Q) byte pair, indexed by the little-endian uint16 I | Q<<8."""
    if fmt.name not in _PAIR_LUTS:
        lut, i = _lut(fmt), np.arange(65536)
        _PAIR_LUTS[fmt.name] = (lut[i & 255] + 1j * lut[i >> 8]).astype(np.complex64)
    return _PAIR_LUTS[fmt.name]


#: The raw formats by keyguard/rtl_433 name.
SAMPLE_FORMATS: dict[str, SampleFormat] = {
    "cu8": SampleFormat("cu8", "u1", 127.5, 127.5),
    "cs8": SampleFormat("cs8", "i1", 0.0, 128.0),
    "cs16": SampleFormat("cs16", "<i2", 0.0, 32768.0),
    "cf32": SampleFormat("cf32", "<f4"),
}


def sigmf_sample_format(datatype: str) -> SampleFormat | None:
    """The SampleFormat of a complex SigMF ``core:datatype`` (``ci16_le``, ``cf32_le``...), or None.

    Real-valued (``r...``) and unknown datatypes give None.
    """
    dt = datatype.strip().lower()
    aliases = {"cu8": "cu8", "ci8": "cs8", "ci16_le": "cs16", "cf32_le": "cf32"}
    if dt in aliases:
        return SAMPLE_FORMATS[aliases[dt]]
    if not dt.startswith("c") or len(dt) < 3:
        return None
    kind, _, endian = dt[1:].partition("_")
    if kind[:1] not in "iuf" or not kind[1:].isdigit():
        return None
    bits = int(kind[1:])
    if endian not in ("le", "be") and not (bits == 8 and endian == ""):
        return None
    order = ">" if endian == "be" else "<"
    if kind[0] == "f" and bits in (32, 64):
        return SampleFormat(dt, f"{order}f{bits // 8}")
    if kind[0] in "iu" and bits in (8, 16, 32):
        signed = kind[0] == "i"
        half = 2.0 ** (bits - 1)
        return SampleFormat(dt, f"{order}{'i' if signed else 'u'}{bits // 8}",
                            0.0 if signed else half - 0.5, half if signed else half - 0.5)
    return None


class RawIQReader:
    """Random access to complex64 samples stored as interleaved I/Q in (part of) a file.

    offset: byte where the samples start; length: bytes of sample data (to the end if None).
    ``num_samples`` counts whole samples; ``trailing_bytes`` is what is left of a cut-off one.
    The file is opened read-only and never written.
    """

    def __init__(self, path: str | Path, sample_format: SampleFormat, offset: int = 0,
                 length: int | None = None):
        self.path = str(path)
        self.sample_format = sample_format
        self.offset = int(offset)
        size = os.stat(self.path).st_size
        avail = max(0, size - self.offset)
        self.length = avail if length is None else min(int(length), avail)
        bps = sample_format.bytes_per_sample
        self.num_samples, self.trailing_bytes = divmod(self.length, bps)
        self._fd: int | None = None

    # a reader can be pickled (for worker processes): the descriptor is reopened on demand
    def __getstate__(self) -> dict:
        d = dict(self.__dict__)
        d["_fd"] = None
        return d

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the file descriptor (it is reopened if the reader is used again)."""
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def read_components(self, start: int, count: int) -> np.ndarray:
        """The stored components of samples [start, start+count), interleaved, not converted."""
        start = max(0, int(start))
        count = max(0, min(int(count), self.num_samples - start))
        bps = self.sample_format.bytes_per_sample
        nbytes = count * bps
        # not a bytearray: that would be zeroed first, and every byte is read over anyway
        buf = np.empty(nbytes, dtype=np.uint8)
        if nbytes:
            if self._fd is None:
                try:
                    self._fd = os.open(self.path, os.O_RDONLY)
                except OSError as e:
                    raise CaptureError(f"cannot open: {e.strerror or e}", self.path) from None
            got = os.preadv(self._fd, [buf], self.offset + start * bps)
            if got != nbytes:
                raise CaptureError(f"file shrank while reading (read {got} of {nbytes} bytes at "
                                   f"sample {start})", self.path)
        return buf.view(self.sample_format.dtype)

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples [start, start+count) as complex64 (fewer at the end of the data)."""
        x = self.sample_format.to_complex(self.read_components(start, count))
        if not self.sample_format.integer:
            flat = x.view(np.float32)
            if not np.isfinite(flat).all():
                bad = int(np.flatnonzero(~np.isfinite(flat))[0]) // 2
                raise CaptureFormatError(
                    f"sample {start + bad} is NaN or infinite", self.path,
                    f"a {self.sample_format.name} recording must hold finite numbers; "
                    "the file is corrupt or not this format")
        return x


def trailing_warning(reader: RawIQReader) -> list[str]:
    """The one warning line for a cut-off last sample, or nothing."""
    if not reader.trailing_bytes:
        return []
    n = reader.trailing_bytes
    return [f"ignored {n} trailing byte{'s' if n != 1 else ''} (a partial "
            f"{reader.sample_format.bytes_per_sample}-byte {reader.sample_format.name} sample: "
            "recording cut off?)"]
