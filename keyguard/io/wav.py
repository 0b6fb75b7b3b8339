"""WAV I/Q recordings as SDR# and HDSDR write them: two channels (I, Q), 8-bit unsigned, 16-bit
or 32-bit integer PCM, or 32-bit float; RIFF or RF64 (files over 4 GB).

Only the chunk headers are parsed; the ``data`` chunk is then read in place by
:class:`keyguard.io.raw.RawIQReader` (bounded memory whatever the size).

Metadata: the sample rate is the WAV rate. The centre frequency comes from HDSDR's ``auxi``
chunk when present, else from the name (``SDRSharp_20230501_101500Z_433920000Hz_IQ.wav``,
``HDSDR_20230501_101500Z_433920kHz_RF.wav`` through the rtl_433 naming rules); a
``YYYYMMDD_HHMMSSZ`` stamp in the name is the UTC start time.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from keyguard.errors import CaptureFormatError
from keyguard.io.files import check_capture_file
from keyguard.io.raw import SAMPLE_FORMATS, RawIQReader, SampleFormat

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_STAMP_RE = re.compile(r"(?<!\d)(\d{8})_(\d{6})Z(?![0-9A-Za-z])")


@dataclass
class WavInfo:
    """What the WAV headers say. data_offset/data_length: the sample bytes' place in the file."""

    sample_rate: float
    channels: int
    bits: int
    sample_format: SampleFormat
    data_offset: int
    data_length: int
    center_freq: float | None = None
    start_time: datetime | None = None
    warnings: list = field(default_factory=list)


def read_wav_header(path: str | Path) -> WavInfo:
    """Parse a WAV file's chunks; CaptureFormatError unless it is a 2-channel I/Q recording."""
    p = check_capture_file(path)
    size = p.stat().st_size
    fmt = None
    data = None
    auxi_freq = None
    ds64_data = None
    with open(p, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            raise CaptureFormatError("not a WAV file (no RIFF/WAVE header)", p)
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            cid, csize = struct.unpack("<4sI", f.read(8))
            body = pos + 8
            if cid == b"ds64":
                ds = f.read(min(csize, 28))
                if len(ds) >= 16:
                    ds64_data = struct.unpack("<Q", ds[8:16])[0]
            elif cid == b"fmt ":
                fmt = f.read(min(csize, 40))
            elif cid == b"auxi":
                aux = f.read(min(csize, 40))
                if len(aux) >= 36:
                    auxi_freq = struct.unpack("<I", aux[32:36])[0] or None
            elif cid == b"data":
                if csize == 0xFFFFFFFF and ds64_data is not None:
                    csize = ds64_data
                data = (body, csize)
                break  # the samples run to the chunk's end; nothing after it matters here
            pos = body + csize + (csize & 1)  # chunks are padded to even sizes
    if fmt is None or len(fmt) < 16:
        raise CaptureFormatError("WAV file has no 'fmt ' chunk", p)
    if data is None:
        raise CaptureFormatError("WAV file has no 'data' chunk", p, "the recording holds no samples")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # first two bytes of the sub-format GUID
    if channels != 2:
        raise CaptureFormatError(f"WAV file has {channels} channel(s); an I/Q recording has 2 (I and Q)",
                                 p, "this looks like audio, not a baseband recording")
    sf = _sample_format(tag, bits)
    if sf is None:
        raise CaptureFormatError(f"WAV sample format (tag {tag}, {bits} bits) is not supported", p,
                                 "keyguard reads 8-bit unsigned, 16/32-bit integer and 32-bit float")
    offset, length = data
    info = WavInfo(sample_rate=float(rate), channels=channels, bits=bits, sample_format=sf,
                   data_offset=offset, data_length=length, center_freq=auxi_freq)
    avail = size - offset
    if length == 0 or length > avail:
        if avail > 0:
            info.warnings.append(f"WAV data chunk says {length} bytes but the file holds {avail}: "
                                 "recording not closed properly? reading what is there")
        info.data_length = avail
    m = None
    for m in _STAMP_RE.finditer(p.name):
        pass
    if m:
        try:
            info.start_time = datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(
                tzinfo=timezone.utc)
        except ValueError:
            pass
    return info


def open_wav_reader(path: str | Path, info: WavInfo) -> RawIQReader:
    """The sample reader over the ``data`` chunk."""
    return RawIQReader(path, info.sample_format, offset=info.data_offset, length=info.data_length)


def _sample_format(tag: int, bits: int) -> SampleFormat | None:
    if tag == _PCM and bits == 8:
        return SAMPLE_FORMATS["cu8"]
    if tag == _PCM and bits == 16:
        return SAMPLE_FORMATS["cs16"]
    if tag == _PCM and bits == 32:
        return SampleFormat("ci32_le", "<i4", 0.0, 2.0**31)
    if tag == _FLOAT and bits == 32:
        return SAMPLE_FORMATS["cf32"]
    return None
