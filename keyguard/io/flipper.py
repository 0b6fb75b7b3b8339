"""Flipper Zero Sub-GHz files (``.sub``): RAW pulse recordings and decoded-protocol keys.

A ``.sub`` file is ``Key: value`` lines. The header gives ``Filetype`` (``Flipper SubGhz RAW
File`` or ``Flipper SubGhz Key File``), ``Version``, ``Frequency`` (Hz) and ``Preset`` (the CC1101
set-up: ``FuriHalSubGhzPresetOok650Async``, ..., or ``FuriHalSubGhzPresetCustom`` with a
``Custom_preset_data`` register blob), then ``Protocol``.

- ``Protocol: RAW``: ``RAW_Data:`` lines of signed durations in µs (+ carrier on / mark, − off /
  space), one continuous recording across lines. Real files break the alternation (two values of
  one sign in a row, a negative first value); :class:`~keyguard.pulse_train.PulseTrain` merges
  same-sign runs. The recording is split into bursts at long off-runs.
- decoded form: ``Protocol`` (e.g. ``KeeLoq``), ``Bit``, ``Key`` (hex bytes, on-air order), ``TE``
  (µs) and protocol-specific keys (``Secplus_packet_1``, ``Manufacture``, ``Lat``/``Lon``, ...).

Only the file format is read here; turning decoded keys into pulses is the protocol encoders' job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from keyguard.errors import CaptureFormatError
from keyguard.io.files import check_capture_file
from keyguard.pulse_train import PulseTrain

#: Default off-run (µs) that ends a burst. rtl_433's pulse detector also ends a package after
#: about 10 ms of silence, and key fobs leave at least that between repeated frames.
DEFAULT_BURST_GAP_US = 10_000.0

#: The CC1101 crystal (Hz) on the Flipper's radio board; register values scale with it.
CC1101_XTAL_HZ = 26e6

#: Built-in presets: (modulation, FSK deviation Hz). Deviations are the CC1101 DEVIATN values the
#: firmware programs for these presets (2.380371 kHz and 47.607422 kHz).
PRESETS: dict[str, tuple[str, float | None]] = {
    "FuriHalSubGhzPresetOok270Async": ("OOK", None),
    "FuriHalSubGhzPresetOok650Async": ("OOK", None),
    "FuriHalSubGhzPreset2FSKDev238Async": ("FSK", 2380.371),
    "FuriHalSubGhzPreset2FSKDev476Async": ("FSK", 47607.422),
    "FuriHalSubGhzPresetMSK99_97KbAsync": ("FSK", None),
    "FuriHalSubGhzPresetGFSK9_99KbAsync": ("FSK", None),
}

_KEY_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_RAW_FILETYPE = "Flipper SubGhz RAW File"
_KEY_FILETYPE = "Flipper SubGhz Key File"


@dataclass
class SubFile:
    """One parsed ``.sub`` file.

    path: the file read. filetype: the ``Filetype`` header. version: ``Version`` or None.
    frequency_hz: ``Frequency`` (Hz) or None. preset: ``Preset`` name or None.
    protocol: ``RAW`` or the decoded protocol's name (``KeeLoq``, ``Security+ 2.0``, ...).
    modulation: ``OOK`` or ``FSK`` from the preset; fsk_deviation_hz when known (Hz).
    raw: the whole RAW recording as one pulse train starting at t = 0 (None for decoded files).
    bursts: ``raw`` split at off-runs ≥ ``burst_gap_us``; each burst's ``t`` is its start (s).
    bit, key, te_us: the decoded form's ``Bit``, ``Key`` (bytes as written) and ``TE`` (µs).
    fields: every other header key as text (a key that repeats maps to a list of its values).
    """

    path: str
    filetype: str
    version: int | None
    frequency_hz: int | None
    preset: str | None
    protocol: str
    modulation: str = "OOK"
    fsk_deviation_hz: float | None = None
    raw: PulseTrain | None = None
    bursts: list[PulseTrain] = field(default_factory=list)
    bit: int | None = None
    key: bytes | None = None
    te_us: int | None = None
    burst_gap_us: float = DEFAULT_BURST_GAP_US
    fields: dict = field(default_factory=dict)

    @property
    def is_raw(self) -> bool:
        """True for a RAW pulse recording."""
        return self.raw is not None

    @property
    def key_int(self) -> int | None:
        """``Key`` as an integer (first byte most significant), or None."""
        return None if self.key is None else int.from_bytes(self.key, "big")

    @property
    def duration_s(self) -> float:
        """Length of the RAW recording in seconds (0 for decoded files)."""
        return 0.0 if self.raw is None else self.raw.duration_us * 1e-6


def read_sub(path: str | Path, *, burst_gap_us: float = DEFAULT_BURST_GAP_US) -> SubFile:
    """Read a Flipper ``.sub`` file.

    burst_gap_us: an off-run at least this long (µs) ends a burst.
    Raises CaptureNotFoundError / CaptureFormatError (with file and line number) on bad input.
    """
    p = check_capture_file(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise CaptureFormatError(f"not a text file (byte {e.start} is not UTF-8)", p,
                                 "a Flipper .sub file is text") from None
    return parse_sub(text, path=str(path), burst_gap_us=burst_gap_us)


def parse_sub(text: str, *, path: str = "<text>",
              burst_gap_us: float = DEFAULT_BURST_GAP_US) -> SubFile:
    """Parse the text of a ``.sub`` file (see :func:`read_sub`)."""
    if burst_gap_us <= 0:
        raise ValueError("burst_gap_us must be positive")
    header: dict[str, tuple[str, int]] = {}
    fields: dict = {}
    raw_chunks: list[np.ndarray] = []
    first_raw_line = None
    lines = text.splitlines()
    for lineno, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith("#"):  # FlipperFormat allows comments and blank lines
            continue
        name, sep, value = s.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not _is_key_name(name):
            raise CaptureFormatError(
                f"line {lineno}: not a 'Key: value' line: {_show(s)}", path,
                "is this a Flipper .sub file? it may be truncated or edited by hand")
        if not header and name != "Filetype":
            raise CaptureFormatError(
                f"line {lineno}: a Flipper .sub file starts with 'Filetype:', found {_show(s)}", path)
        if name == "RAW_Data":
            raw_chunks.append(_parse_raw_values(value, lineno, path))
            first_raw_line = first_raw_line or lineno
        elif name in ("Filetype", "Version", "Frequency", "Preset", "Protocol", "Bit", "Key", "TE"):
            header[name] = (value, lineno)
        elif name in fields:
            prev = fields[name]
            fields[name] = (prev if isinstance(prev, list) else [prev]) + [value]
        else:
            fields[name] = value
    if "Filetype" not in header:
        raise CaptureFormatError("no 'Filetype:' line: not a Flipper .sub file", path)
    filetype = header["Filetype"][0]
    if not filetype.startswith("Flipper SubGhz"):
        raise CaptureFormatError(
            f"line {header['Filetype'][1]}: Filetype {filetype!r} is not a Flipper Sub-GHz file",
            path, f"expected '{_RAW_FILETYPE}' or '{_KEY_FILETYPE}'")
    if "Protocol" not in header:
        raise CaptureFormatError("no 'Protocol:' line", path,
                                 "a .sub file says 'Protocol: RAW' or names a decoded protocol")
    protocol = header["Protocol"][0]
    version = _int_field(header, "Version", path)
    frequency = _int_field(header, "Frequency", path)
    if frequency is not None and not 0 < frequency < 10_000_000_000:
        raise CaptureFormatError(
            f"line {header['Frequency'][1]}: Frequency {frequency} Hz is not a radio frequency",
            path, "Flipper writes the frequency in Hz, e.g. 433920000")
    preset = header["Preset"][0] if "Preset" in header else None
    modulation, deviation = _modulation(preset, fields, path)

    sub = SubFile(path=path, filetype=filetype, version=version, frequency_hz=frequency,
                  preset=preset, protocol=protocol, modulation=modulation,
                  fsk_deviation_hz=deviation, burst_gap_us=float(burst_gap_us), fields=fields)

    if protocol == "RAW" or raw_chunks:
        values = np.concatenate(raw_chunks) if raw_chunks else np.zeros(0, dtype=np.int64)
        if not np.any(values > 0):
            where = f"RAW_Data from line {first_raw_line} holds no carrier-on (positive) duration" \
                if raw_chunks else "no RAW_Data lines"
            raise CaptureFormatError(f"{where}: no pulses to read", path,
                                     "the recording is empty; record again")
        meta = {"source": "flipper_sub", "preset": preset}
        raw = PulseTrain.from_signed_us(values.astype(np.float64), t=0.0, modulation=modulation,
                                        freq_hz=None if frequency is None else float(frequency),
                                        fsk_deviation_hz=deviation, meta=meta)
        sub.raw = raw
        sub.bursts = list(raw.split(burst_gap_us))
    if protocol != "RAW":
        sub.bit = _int_field(header, "Bit", path)
        sub.te_us = _int_field(header, "TE", path)
        if "Key" in header:
            sub.key = _parse_key(*header["Key"], path)
        elif not raw_chunks and "Data_RAW" not in fields:
            raise CaptureFormatError(
                f"line {header['Protocol'][1]}: decoded protocol {protocol!r} but no 'Key:' line",
                path, "the file is incomplete")
        if sub.bit is not None and sub.key is not None and sub.bit > 8 * len(sub.key):
            raise CaptureFormatError(
                f"line {header['Bit'][1]}: Bit {sub.bit} is more than the Key's {8 * len(sub.key)} bits",
                path)
    return sub


# --------------------------------------------------------------------------------------------
def _is_key_name(name: str) -> bool:
    """FlipperFormat keys are identifiers: ``Frequency``, ``RAW_Data``, ``Secplus_packet_1``."""
    return bool(_KEY_NAME_RE.fullmatch(name))


def _show(s: str, n: int = 40) -> str:
    return repr(s if len(s) <= n else s[:n] + "...")


def _parse_raw_values(value: str, lineno: int, path: str) -> np.ndarray:
    tokens = value.split()
    try:
        return np.array([int(t) for t in tokens], dtype=np.int64)
    except ValueError:
        bad = next(t for t in tokens if not _is_int(t))
        raise CaptureFormatError(
            f"line {lineno}: RAW_Data value {_show(bad, 20)} is not a whole number of µs", path,
            "RAW_Data holds signed integers: + carrier on, - off") from None


def _is_int(t: str) -> bool:
    try:
        int(t)
    except ValueError:
        return False
    return True


def _int_field(header: dict, name: str, path: str) -> int | None:
    if name not in header:
        return None
    value, lineno = header[name]
    try:
        return int(value)
    except ValueError:
        raise CaptureFormatError(f"line {lineno}: {name} {_show(value, 20)} is not an integer",
                                 path) from None


def _parse_key(value: str, lineno: int, path: str) -> bytes:
    try:
        b = bytes.fromhex(value)
    except ValueError:
        b = b""
    if not b:
        raise CaptureFormatError(f"line {lineno}: Key {_show(value, 30)} is not hex bytes", path,
                                 "Flipper writes keys as 'Key: 00 11 22 ...'")
    return b


def _modulation(preset: str | None, fields: dict, path: str) -> tuple[str, float | None]:
    """Modulation and FSK deviation (Hz) from the preset name or the custom CC1101 registers."""
    if preset is None:
        return "OOK", None
    if preset in PRESETS:
        return PRESETS[preset]
    blob = fields.get("Custom_preset_data")
    if preset == "FuriHalSubGhzPresetCustom" and isinstance(blob, str):
        return _cc1101_modulation(blob, path)
    # An unknown preset name (newer firmware): the name usually says which.
    return ("FSK", None) if "FSK" in preset.upper() else ("OOK", None)


def _cc1101_modulation(blob: str, path: str) -> tuple[str, float | None]:
    """Decode MDMCFG2 (0x12) and DEVIATN (0x15) from ``Custom_preset_data``.

    The blob is (register, value) byte pairs ending in ``00 00``, then the 8-byte PA table.
    CC1101 datasheet: MOD_FORMAT = MDMCFG2[6:4] (0 2-FSK, 1 GFSK, 3 ASK/OOK, 4 4-FSK, 7 MSK);
    deviation = f_xosc / 2^17 · (8 + DEVIATION_M) · 2^DEVIATION_E.
    """
    try:
        b = bytes.fromhex(blob)
    except ValueError:
        raise CaptureFormatError("Custom_preset_data is not hex bytes", path) from None
    regs: dict[int, int] = {}
    for i in range(0, len(b) - 1, 2):
        if b[i] == 0 and b[i + 1] == 0:
            break
        regs[b[i]] = b[i + 1]
    mod_format = (regs.get(0x12, 0x30) >> 4) & 0x7
    if mod_format == 3:
        return "OOK", None
    dev = None
    if 0x15 in regs:
        e, m = (regs[0x15] >> 4) & 0x7, regs[0x15] & 0x7
        dev = CC1101_XTAL_HZ / 2**17 * (8 + m) * 2**e
    return "FSK", dev
