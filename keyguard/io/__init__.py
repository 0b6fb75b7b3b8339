"""Capture input/output: open any supported recording as a :class:`Capture`, write IQ files.

:func:`open_capture` picks the reader from, in order: the ``fmt`` argument, an rtl_433-style
``FORMAT:path`` prefix, the extension, and the file's first bytes (WAV, SigMF, ``.sub``,
``.ook``). Sample rate, centre frequency and start time come from explicit arguments, then the
file's metadata (SigMF, a same-stem ``.sigmf-meta`` beside a raw file, WAV/``.sub``/``.ook``
headers), then the name (``g001_433.92M_250k.cu8``), then rtl_433's defaults, which are listed
in ``Capture.assumed``.

Every input is opened read-only. Bad input raises a :class:`keyguard.errors.CaptureError`
subclass whose message is one line naming the file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from keyguard.errors import CaptureFormatError
from keyguard.io.capture import DEFAULT_BLOCK, Capture, SampleBlock
from keyguard.io.files import check_capture_file
from keyguard.io.metadata import resolve
from keyguard.io.naming import FORMAT_WORDS, NameInfo, parse_capture_name
from keyguard.io.pulses import open_ook, open_sub, pulse_capture_to_iq
from keyguard.io.raw import SAMPLE_FORMATS, RawIQReader, trailing_warning
from keyguard.io.sigmf_io import META_EXT, find_sidecar, open_sigmf, read_sigmf_meta, sidecar_file_meta
from keyguard.io.wav import open_wav_reader, read_wav_header
from keyguard.io.writers import write_iq

__all__ = ["Capture", "SampleBlock", "DEFAULT_BLOCK", "open_capture", "pulse_capture_to_iq",
           "write_iq", "detect_format"]

_MAGIC_BYTES = 512


def open_capture(path: str | Path, *, fmt: str | None = None, sample_rate: float | None = None,
                 center_freq: float | None = None,
                 start_time: datetime | str | None = None) -> Capture:
    """Open a capture file.

    path: the file, optionally prefixed ``FORMAT:`` (``cu8:``, ``cs16:``, ``cf32:``, ``sub:``...).
    fmt: force the format (same words as the prefix). sample_rate (Hz), center_freq (Hz),
    start_time (UTC datetime or ISO-8601 text): override what the file and its name say.
    For pulse files (.sub, .ook) sample_rate is the rate their bursts are rendered at.
    """
    spec = str(path)
    name = parse_capture_name(spec)
    real = Path(name.path)
    if fmt is not None:
        key = fmt.strip().lower()
        if key not in FORMAT_WORDS:
            raise CaptureFormatError(f"unknown input format {fmt!r}", spec,
                                     f"use one of {', '.join(sorted(set(FORMAT_WORDS.values())))}")
        name = NameInfo(name.path, FORMAT_WORDS[key], "explicit", name.center_freq, name.sample_rate)
    if not real.exists() and Path(name.path + META_EXT).is_file():
        real = Path(name.path + META_EXT)  # "recording" for recording.sigmf-meta, like sigmf does
        name = NameInfo(str(real), "sigmf", "extension", name.center_freq, name.sample_rate)
    check_capture_file(real)
    kind = name.fmt or detect_format(real)
    if kind is None:
        raise CaptureFormatError(
            "cannot tell the sample format from the name or the contents", spec,
            "name it .cu8/.cs8/.cs16/.cf32, or prefix the format, e.g. cu8:FILE")
    args = dict(spec=spec, name=name, sample_rate=sample_rate, center_freq=center_freq,
                start_time=start_time)
    if kind == "sigmf":
        return open_sigmf(real, **args)
    if kind == "sub":
        return open_sub(real, **args)
    if kind == "ook":
        return open_ook(real, **args)
    if kind == "wav":
        return _open_wav(real, **args)
    return _open_raw(real, kind, **args)


def detect_format(path: str | Path) -> str | None:
    """The format a file's first bytes reveal (wav, sub, ook, sigmf), or None."""
    with open(path, "rb") as f:
        head = f.read(_MAGIC_BYTES)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"Filetype: Flipper SubGhz"):
        return "sub"
    if head.lstrip().lower().startswith(b";pulse data"):
        return "ook"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "sigmf"  # a tar file: a SigMF archive is the only one keyguard reads
    if head.lstrip().startswith(b"{") and b'"global"' in head:
        return "sigmf"
    return None


# --------------------------------------------------------------------------------------------
def _open_raw(p: Path, kind: str, *, spec: str, name: NameInfo, sample_rate, center_freq,
              start_time) -> Capture:
    """cu8/cs8/cs16/cf32, with metadata from a same-stem .sigmf-meta when there is one."""
    side_path = find_sidecar(p)
    side = read_sigmf_meta(side_path) if side_path else None
    sf = SAMPLE_FORMATS[kind]
    warnings: list[str] = []
    offset, length = 0, None
    if side is not None:
        warnings += side.warnings
        if side.sample_format.name != sf.name:
            warnings.append(f"{side_path.name} says {side.datatype} but the name says {kind}; "
                            f"reading {kind} (force the format with --input-format)")
        offset = side.header_bytes
        length = max(0, p.stat().st_size - side.header_bytes - side.trailing_bytes)
    reader = RawIQReader(p, sf, offset=offset, length=length)
    if reader.num_samples == 0:
        raise CaptureFormatError(f"holds no complete {kind} sample ({reader.length} bytes)", spec,
                                 "the recording is empty or not this format")
    res = resolve(spec, name=name, file_meta=sidecar_file_meta(side) if side else None,
                  sample_rate=sample_rate, center_freq=center_freq, start_time=start_time)
    return Capture(path=spec, format=kind, sample_rate=res.sample_rate,
                   center_freq=res.center_freq, start_time=res.start_time,
                   num_samples=reader.num_samples, hw=side.hw if side else None,
                   annotations=list(side.annotations) if side else [], assumed=res.assumed,
                   warnings=warnings + trailing_warning(reader),
                   file_paths=(str(p),) + ((str(side_path),) if side_path else ()), reader=reader,
                   extra={"sample_format": kind, "metadata_sources": res.sources,
                          "format_from": name.fmt_source or "contents",
                          "sigmf_sha512": side.sha512 if side else None,
                          "sigmf_data_span": (str(p), 0, p.stat().st_size)})


def _open_wav(p: Path, *, spec: str, name: NameInfo, sample_rate, center_freq,
              start_time) -> Capture:
    info = read_wav_header(p)
    reader = open_wav_reader(p, info)
    if reader.num_samples == 0:
        raise CaptureFormatError("WAV data chunk holds no complete I/Q sample", spec)
    res = resolve(spec, name=name, file_meta={"sample_rate": info.sample_rate,
                                              "center_freq": info.center_freq,
                                              "start_time": info.start_time},
                  sample_rate=sample_rate, center_freq=center_freq, start_time=start_time)
    return Capture(path=spec, format="wav", sample_rate=res.sample_rate,
                   center_freq=res.center_freq, start_time=res.start_time,
                   num_samples=reader.num_samples, assumed=res.assumed,
                   warnings=info.warnings + trailing_warning(reader), file_paths=(str(p),),
                   reader=reader,
                   extra={"sample_format": reader.sample_format.name, "wav_bits": info.bits,
                          "metadata_sources": res.sources})
