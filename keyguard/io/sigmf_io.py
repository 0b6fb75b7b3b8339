"""SigMF recordings: ``.sigmf-meta`` + ``.sigmf-data`` pairs, ``.sigmf`` archives, sidecar metadata.

Metadata is read with the ``sigmf`` package (its datatype rules and schema validation); the
samples go through :class:`keyguard.io.raw.RawIQReader` like every other IQ format, so a 4 GB
recording streams in bounded memory (inside an uncompressed ``.sigmf`` archive the data member is
read in place, at its offset in the tar file).

A raw IQ file (``x.cu8``) with ``x.sigmf-meta`` beside it takes sample rate, frequency, start
time, hardware and annotations from that sidecar.

Writing: :func:`write_sigmf` streams the samples into ``.sigmf-data`` (or an archive) and writes
metadata with ``core:sha512`` of the data, ``core:datetime``, ``core:hw`` and annotations.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from keyguard import __version__
from keyguard.errors import CaptureFormatError, CaptureNotFoundError
from keyguard.io.capture import Capture
from keyguard.io.files import check_capture_file
from keyguard.io.metadata import as_utc, check_sample_rate, resolve
from keyguard.io.naming import NameInfo
from keyguard.io.raw import RawIQReader, SampleFormat, sigmf_sample_format, trailing_warning
from keyguard.io.writers import write_iq

META_EXT, DATA_EXT, ARCHIVE_EXT = ".sigmf-meta", ".sigmf-data", ".sigmf"

#: keyguard format → SigMF datatype, for writing.
SIGMF_DATATYPES = {"cu8": "cu8", "cs8": "ci8", "cs16": "ci16_le", "cf32": "cf32_le"}


@dataclass
class SigMFMeta:
    """The parts of a SigMF metadata document keyguard uses (``metadata`` holds all of it).

    sample_rate (Hz), center_freq (Hz) and start_time (UTC, of sample 0) are None when absent.
    header_bytes/trailing_bytes: bytes around the samples in the data file (non-conforming data).
    """

    source: str
    metadata: dict
    datatype: str
    sample_format: SampleFormat
    sample_rate: float | None = None
    center_freq: float | None = None
    start_time: datetime | None = None
    hw: str | None = None
    annotations: list = field(default_factory=list)
    captures: list = field(default_factory=list)
    header_bytes: int = 0
    trailing_bytes: int = 0
    sha512: str | None = None
    dataset: str | None = None
    warnings: list = field(default_factory=list)

    @property
    def global_(self) -> dict:
        return self.metadata.get("global", {})


def parse_sigmf_meta(text: str | bytes, source: str) -> SigMFMeta:
    """Parse and check a SigMF metadata document; CaptureFormatError names ``source`` on failure."""
    try:
        md = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        where = f" at line {line}" if line else ""
        raise CaptureFormatError(f"SigMF metadata is not valid JSON{where}", source,
                                 "the .sigmf-meta file is damaged") from None
    if not isinstance(md, dict) or not isinstance(md.get("global"), dict):
        raise CaptureFormatError("SigMF metadata has no 'global' object", source)
    g = md["global"]
    datatype = g.get("core:datatype")
    if not isinstance(datatype, str) or not datatype:
        raise CaptureFormatError("SigMF metadata has no core:datatype", source,
                                 "add e.g. \"core:datatype\": \"cf32_le\"")
    fmt = sigmf_sample_format(datatype)
    if fmt is None:
        if datatype.lower().startswith("r"):
            raise CaptureFormatError(
                f"SigMF datatype {datatype!r} is real-valued; keyguard needs complex I/Q", source,
                "record complex samples (e.g. ci16_le, cf32_le)")
        raise CaptureFormatError(f"unknown SigMF datatype {datatype!r}", source,
                                 "known: cu8, ci8, ci16_le, cf32_le, and other complex c[iuf]NN_le/be")
    out = SigMFMeta(source=source, metadata=md, datatype=datatype, sample_format=fmt)
    _validate(md, out)
    if int(g.get("core:num_channels", 1) or 1) != 1:
        raise CaptureFormatError(f"SigMF recording has {g['core:num_channels']} channels", source,
                                 "keyguard reads single-channel recordings")
    if g.get("core:metadata_only"):
        raise CaptureFormatError("SigMF metadata is metadata-only: there are no samples", source)
    if g.get("core:sample_rate") is not None:
        out.sample_rate = check_sample_rate(_number(g["core:sample_rate"], "core:sample_rate", source),
                                            source, "the SigMF core:sample_rate")
    caps = md.get("captures") or []
    if not isinstance(caps, list) or not all(isinstance(c, dict) for c in caps):
        raise CaptureFormatError("SigMF 'captures' is not a list of objects", source)
    caps = sorted(caps, key=lambda c: c.get("core:sample_start", 0))
    out.captures = caps
    if caps:
        first = caps[0]
        if first.get("core:frequency") is not None:
            out.center_freq = _number(first["core:frequency"], "core:frequency", source)
        if first.get("core:datetime"):
            dt = as_utc(str(first["core:datetime"]), source)
            s0 = int(first.get("core:sample_start", 0) or 0)
            if s0 and out.sample_rate:
                dt -= timedelta(seconds=s0 / out.sample_rate)
            out.start_time = dt
        headers = [int(c.get("core:header_bytes", 0) or 0) for c in caps]
        if any(headers[1:]):
            raise CaptureFormatError("SigMF data with header bytes inside later capture segments",
                                     source, "keyguard reads one contiguous run of samples")
        out.header_bytes = headers[0]
        freqs = {c.get("core:frequency") for c in caps if c.get("core:frequency") is not None}
        if len(freqs) > 1:
            out.warnings.append(f"SigMF capture segments use {len(freqs)} centre frequencies; "
                                "keyguard uses the first segment's for the whole recording")
    out.trailing_bytes = int(g.get("core:trailing_bytes", 0) or 0)
    out.hw = g.get("core:hw")
    out.sha512 = g.get("core:sha512")
    out.dataset = g.get("core:dataset")
    ann = md.get("annotations") or []
    out.annotations = [a for a in ann if isinstance(a, dict)]
    return out


def read_sigmf_meta(meta_path: str | Path) -> SigMFMeta:
    """Read a ``.sigmf-meta`` file (see :func:`parse_sigmf_meta`)."""
    p = check_capture_file(meta_path)
    return parse_sigmf_meta(p.read_bytes(), str(meta_path))


def find_sidecar(data_path: str | Path) -> Path | None:
    """``x.sigmf-meta`` beside ``x.cu8`` (same stem), or None."""
    p = Path(data_path)
    cand = p.with_suffix(META_EXT)
    return cand if cand != p and cand.is_file() else None


def open_sigmf(path: str | Path, *, spec: str | None = None, name: NameInfo | None = None,
               sample_rate: float | None = None, center_freq: float | None = None,
               start_time: datetime | str | None = None) -> Capture:
    """Open a SigMF recording given its ``.sigmf-meta``, ``.sigmf-data`` or ``.sigmf`` archive.

    Explicit arguments override the metadata. Raises CaptureNotFoundError/CaptureFormatError.
    """
    p = Path(path)
    shown = spec or str(path)
    lower = p.name.lower()
    if lower.endswith(ARCHIVE_EXT) or (not lower.endswith((META_EXT, DATA_EXT)) and _is_tar(p)):
        return _open_archive(p, shown, name, sample_rate, center_freq, start_time)
    if lower.endswith(DATA_EXT):
        meta_path = p.with_suffix(META_EXT)
        check_capture_file(p)
        if not meta_path.is_file():
            raise CaptureNotFoundError(f"no SigMF metadata {meta_path.name} beside the data file", p,
                                       "keep the .sigmf-meta with the .sigmf-data")
    else:
        meta_path = p
    meta = read_sigmf_meta(meta_path)
    data_path = _data_file_for(meta_path, meta)
    check_capture_file(data_path, allow_empty=True)
    reader = RawIQReader(data_path, meta.sample_format, offset=meta.header_bytes,
                         length=_sample_bytes(data_path.stat().st_size, meta))
    return _capture(shown, "sigmf", reader, meta, name, (str(data_path), str(meta_path)),
                    sample_rate, center_freq, start_time)


def sidecar_file_meta(meta: SigMFMeta) -> dict:
    """The values a sidecar states, in the form :func:`keyguard.io.metadata.resolve` takes."""
    return {"sample_rate": meta.sample_rate, "center_freq": meta.center_freq,
            "start_time": meta.start_time}


def verify_sha512(capture: Capture) -> bool | None:
    """Check the data against the recording's ``core:sha512``: True/False, None if it has none.

    Reads the whole sample data once (streamed).
    """
    want = capture.extra.get("sigmf_sha512")
    span = capture.extra.get("sigmf_data_span")
    if not want or not span:
        return None
    path, offset, length = span
    h = hashlib.sha512()
    with open(path, "rb") as f:
        f.seek(offset)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(1 << 20, remaining))
            if not chunk:
                break
            h.update(chunk)
            remaining -= len(chunk)
    return h.hexdigest() == str(want).lower()


# --------------------------------------------------------------------------------------------
def write_sigmf(path: str | Path, samples: np.ndarray | Iterable, sample_rate: float, *,
                fmt: str = "cf32", center_freq: float | None = None,
                start_time: datetime | None = None, hw: str | None = None,
                annotations: Iterable[dict] = (), description: str | None = None,
                author: str | None = None, overwrite: bool = False,
                extensions: Iterable[dict] = ()) -> Path:
    """Write a SigMF recording and return the path of its metadata (or archive) file.

    path: ``x``, ``x.sigmf-meta`` or ``x.sigmf-data`` write the pair ``x.sigmf-meta`` +
    ``x.sigmf-data``; ``x.sigmf`` writes an archive. samples: complex array or iterable of blocks
    (streamed). fmt: cu8, cs8, cs16 or cf32 (SigMF cu8, ci8, ci16_le, cf32_le).
    annotations: dicts with ``core:sample_start`` and optionally ``core:sample_count``,
    ``core:label``, ``core:freq_lower_edge``... Metadata carries ``core:sha512`` of the data.
    """
    from sigmf import SigMFFile

    if fmt not in SIGMF_DATATYPES:
        raise ValueError(f"cannot write SigMF as {fmt!r}; use one of {', '.join(SIGMF_DATATYPES)}")
    sample_rate = check_sample_rate(sample_rate, str(path))
    p = Path(path)
    archive = p.name.lower().endswith(ARCHIVE_EXT)
    base = p.with_suffix("") if p.suffix.lower() in (META_EXT, DATA_EXT, ARCHIVE_EXT) else p
    meta_path, data_path = base.with_name(base.name + META_EXT), base.with_name(base.name + DATA_EXT)
    targets = [p] if archive else [meta_path, data_path]
    for t in targets:
        if t.exists() and not overwrite:
            raise FileExistsError(f"{t}: already exists (pass overwrite=True to replace it)")

    with tempfile.TemporaryDirectory(dir=base.parent) as tmpdir:
        tmp_data = Path(tmpdir) / (base.name + DATA_EXT)
        written = write_iq(tmp_data, samples, fmt, sha512=True)
        g = {"core:datatype": SIGMF_DATATYPES[fmt], "core:sample_rate": float(sample_rate),
             "core:sha512": written.sha512, "core:recorder": f"keyguard {__version__}"}
        if hw:
            g["core:hw"] = hw
        if description:
            g["core:description"] = description
        if author:
            g["core:author"] = author
        if extensions:  # non-core namespaces in use: dicts of name, version, optional
            g["core:extensions"] = [dict(e) for e in extensions]
        sm = SigMFFile(global_info=g)
        cap: dict = {}
        if center_freq is not None:
            cap["core:frequency"] = float(center_freq)
        if start_time is not None:
            cap["core:datetime"] = _sigmf_datetime(start_time)
        sm.add_capture(0, metadata=cap)
        for a in annotations:
            a = dict(a)
            start = int(a.pop("core:sample_start"))
            count = a.pop("core:sample_count", None)
            sm.add_annotation(start, None if count is None else int(count), metadata=a)
        try:
            sm.validate()
        except Exception as e:  # jsonschema.ValidationError: bad annotation keys and the like
            raise ValueError(f"SigMF metadata would not validate: {_first_line(e)}") from None
        if archive:
            sm.set_data_file(data_file=tmp_data, skip_checksum=True)
            if p.exists():
                p.unlink()
            sm.archive(name=str(p), overwrite=True)
            return p
        tmp_meta = Path(tmpdir) / (base.name + META_EXT)
        with open(tmp_meta, "w") as f:
            sm.dump(f, pretty=True)
            f.write("\n")
        tmp_data.replace(data_path)
        tmp_meta.replace(meta_path)
    return meta_path


# --------------------------------------------------------------------------------------------
def _validate(md: dict, out: SigMFMeta) -> None:
    """Schema check by the sigmf package; a failure is a warning (many real files bend the rules
    yet carry everything keyguard needs; what it does need is checked above and below)."""
    from sigmf import SigMFFile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undeclared extension namespaces and the like
            SigMFFile(metadata=md).validate()
    except Exception as e:  # jsonschema.ValidationError
        out.warnings.append(f"SigMF metadata does not follow the schema: {_first_line(e)}")


def _first_line(e: Exception) -> str:
    msg = getattr(e, "message", None) or str(e)
    return msg.splitlines()[0][:160] if msg else type(e).__name__


def _number(v, key: str, source: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CaptureFormatError(f"SigMF {key} {v!r} is not a number", source)
    return float(v)


def _sigmf_datetime(t: datetime) -> str:
    t = as_utc(t)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _data_file_for(meta_path: Path, meta: SigMFMeta) -> Path:
    if meta.dataset:
        cand = meta_path.parent / meta.dataset
        if not cand.is_file():
            raise CaptureNotFoundError(f"SigMF data file {meta.dataset} (core:dataset) is missing",
                                       meta_path, "copy the data file beside the metadata")
        return cand
    cand = meta_path.with_suffix(DATA_EXT)
    if not cand.is_file():
        raise CaptureNotFoundError(f"SigMF data file {cand.name} is missing", meta_path,
                                   "copy the .sigmf-data beside the .sigmf-meta")
    return cand


def _is_tar(p: Path) -> bool:
    try:
        with open(p, "rb") as f:
            f.seek(257)
            return f.read(5) == b"ustar"
    except OSError:
        return False


def _sample_bytes(total: int, meta: SigMFMeta) -> int:
    n = total - meta.header_bytes - meta.trailing_bytes
    if n < 0:
        raise CaptureFormatError(
            f"data is {total} bytes but the metadata skips {meta.header_bytes} header and "
            f"{meta.trailing_bytes} trailing bytes", meta.source)
    return n


def _open_archive(p: Path, shown: str, name, sample_rate, center_freq, start_time) -> Capture:
    check_capture_file(p)
    try:
        with tarfile.open(p, "r:") as tar:  # "r:" = uncompressed only: the data is read in place
            members = [m for m in tar.getmembers() if m.isfile()]
            metas = [m for m in members if m.name.endswith(META_EXT)]
            if not metas:
                raise CaptureFormatError("SigMF archive holds no .sigmf-meta", p)
            mm = metas[0]
            with tar.extractfile(mm) as f:
                meta = parse_sigmf_meta(f.read(), f"{shown}:{mm.name}")
    except tarfile.ReadError:
        raise CaptureFormatError("not an uncompressed tar file, so not a SigMF archive keyguard reads",
                                 p, "compressed archives: decompress first (the .sigmf inside)") from None
    if len(metas) > 1:
        meta.warnings.append(f"archive holds {len(metas)} recordings; reading {mm.name}")
    stem = mm.name[: -len(META_EXT)]
    want = stem + DATA_EXT if not meta.dataset else str(Path(mm.name).parent / meta.dataset)
    data = next((m for m in members if m.name == want), None)
    if data is None:
        raise CaptureFormatError(f"SigMF archive has no data member {want}", p)
    span_len = _sample_bytes(data.size, meta)
    reader = RawIQReader(p, meta.sample_format, offset=data.offset_data + meta.header_bytes,
                         length=span_len)
    cap = _capture(shown, "sigmf", reader, meta, name, (str(p),), sample_rate, center_freq, start_time)
    cap.extra["sigmf_data_span"] = (str(p), data.offset_data, data.size)
    return cap


def _capture(shown: str, fmt: str, reader: RawIQReader, meta: SigMFMeta, name: NameInfo | None,
             file_paths: tuple, sample_rate, center_freq, start_time) -> Capture:
    res = resolve(shown, name=name, file_meta=sidecar_file_meta(meta), sample_rate=sample_rate,
                  center_freq=center_freq, start_time=start_time)
    warnings_ = list(meta.warnings) + trailing_warning(reader)
    cap = Capture(path=shown, format=fmt, sample_rate=res.sample_rate, center_freq=res.center_freq,
                  start_time=res.start_time, num_samples=reader.num_samples, hw=meta.hw,
                  annotations=list(meta.annotations), assumed=res.assumed, warnings=warnings_,
                  file_paths=file_paths, reader=reader,
                  extra={"sample_format": reader.sample_format.name, "datatype": meta.datatype,
                         "metadata_sources": res.sources, "sigmf_sha512": meta.sha512,
                         "sigmf_data_span": (reader.path, 0, Path(reader.path).stat().st_size)})
    for k in ("core:description", "core:author", "core:recorder"):
        if meta.global_.get(k):
            cap.extra[k.split(":")[1]] = meta.global_[k]
    return cap

