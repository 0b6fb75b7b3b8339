"""Pulse captures (Flipper ``.sub``, rtl_433 ``.ook``) as Captures that render I/Q on demand.

A pulse capture keeps its bursts in ``Capture.pulse_trains`` (each with ``t`` = seconds from the
start of the recording) and gets a :class:`PulseRenderReader`, so ``blocks()`` yields complex
baseband like any IQ file: each burst rendered by :func:`keyguard.sim.render.render_pulse_train`
at its sub-sample start time and carrier offset, plus complex white noise from
:func:`keyguard.sim.noise.block_noise`, which is generated in fixed blocks keyed by the seed so
that the samples do not depend on the block size asked for.

:func:`pulse_capture_to_iq` re-renders at a chosen rate, SNR, frequency offset and seed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from keyguard.io.capture import Capture
from keyguard.io.flipper import DEFAULT_BURST_GAP_US, read_sub
from keyguard.io.metadata import check_sample_rate, resolve
from keyguard.io.naming import NameInfo
from keyguard.io.ook import read_ook
from keyguard.pulse_train import PulseTrain

#: Rate (Hz) at which a .sub file is rendered unless told otherwise: rtl_433's default rate,
#: 4 µs per sample, well under the shortest key-fob pulse (~50 µs).
DEFAULT_PULSE_RATE = 250e3
#: Carrier amplitude of rendered bursts (full scale 1.0): −6 dBFS leaves room for the noise.
DEFAULT_PULSE_AMPLITUDE = 0.5
#: SNR (dB) of rendered bursts by default: high, but with a noise floor like a real receiver's.
DEFAULT_PULSE_SNR_DB = 40.0


class PulseRenderReader:
    """Sample reader that renders pulse trains into complex64 I/Q on request.

    trains: bursts with ``t`` in seconds; offsets_hz: each burst's carrier offset from the
    centre (Hz); amplitude: carrier amplitude; snr_db: None for a clean render, else the burst
    SNR (carrier-on power over the noise power of the sampled band); seed: noise seed.
    """

    _CACHE = 4  # rendered bursts kept, so a burst spanning several blocks is rendered once

    def __init__(self, trains: list[PulseTrain], sample_rate: float, num_samples: int, *,
                 offsets_hz: list[float] | None = None, amplitude: float = DEFAULT_PULSE_AMPLITUDE,
                 snr_db: float | None = DEFAULT_PULSE_SNR_DB, seed: int = 0):
        from keyguard.sim.render import render_pulse_train  # noqa: F401  (fail early if missing)

        self.trains = sorted(trains, key=lambda pt: pt.t)
        self.sample_rate = float(sample_rate)
        self.num_samples = int(num_samples)
        offs = offsets_hz if offsets_hz is not None else [0.0] * len(trains)
        order = sorted(range(len(trains)), key=lambda i: trains[i].t)
        self.offsets_hz = [float(offs[i]) for i in order]
        self.amplitude = float(amplitude)
        self.snr_db = snr_db
        self.seed = int(seed)
        fs = self.sample_rate
        self._first = np.array([int(math.floor(pt.t * fs)) for pt in self.trains], dtype=np.int64)
        # one sample of margin past the nominal end covers the straddling last sample
        self._last = np.array([int(math.ceil(pt.t_end * fs)) + 1 for pt in self.trains], dtype=np.int64)
        self._max_len = int((self._last - self._first).max()) if self.trains else 0
        self._cache: dict[int, np.ndarray] = {}

    @property
    def noise_power(self) -> float:
        """Noise power (full scale 1.0 = 0 dBFS), 0 for a clean render."""
        if self.snr_db is None:
            return 0.0
        return self.amplitude ** 2 / 10.0 ** (self.snr_db / 10.0)

    def _burst(self, i: int) -> np.ndarray:
        if i not in self._cache:
            from keyguard.sim.render import render_pulse_train

            pt = self.trains[i]
            lead = pt.t * self.sample_rate - self._first[i]  # sub-sample start, in samples
            x = render_pulse_train(pt, self.sample_rate, freq_offset_hz=self.offsets_hz[i],
                                   amplitude=self.amplitude, lead_s=lead / self.sample_rate)
            if len(self._cache) >= self._CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[i] = x
        return self._cache[i]

    def read(self, start: int, count: int) -> np.ndarray:
        """Samples [start, start+count) as complex64 (fewer at the end)."""
        start = max(0, int(start))
        stop = min(self.num_samples, start + max(0, int(count)))
        if stop <= start:
            return np.zeros(0, np.complex64)
        out = np.zeros(stop - start, np.complex64)
        # bursts that start before `stop` and end after `start`
        lo = int(np.searchsorted(self._first, start - self._max_len, side="left"))
        hi = int(np.searchsorted(self._first, stop, side="left"))
        for i in range(lo, hi):
            if self._last[i] <= start:
                continue
            x = self._burst(i)
            a, b = max(start, self._first[i]), min(stop, self._first[i] + x.size)
            if b > a:
                out[a - start:b - start] += x[a - self._first[i]:b - self._first[i]]
        if self.snr_db is not None:
            from keyguard.sim.noise import block_noise

            out += block_noise(("keyguard.io.pulses", self.seed), start, stop, self.noise_power)
        return out


def _num_samples(duration_s: float, sample_rate: float) -> int:
    return int(math.ceil(duration_s * sample_rate - 1e-9))


def open_sub(path: str | Path, *, spec: str | None = None, name: NameInfo | None = None,
             sample_rate: float | None = None, center_freq: float | None = None,
             start_time: datetime | str | None = None,
             burst_gap_us: float = DEFAULT_BURST_GAP_US) -> Capture:
    """Open a Flipper ``.sub`` file as a pulse capture (see module doc).

    sample_rate: the render rate (Hz), default :data:`DEFAULT_PULSE_RATE`. center_freq: default
    the file's ``Frequency``. A decoded-protocol file has no pulses: its Capture has an empty
    ``pulse_trains`` and the key in ``extra["sub"]``.
    """
    shown = spec or str(path)
    sub = read_sub(path, burst_gap_us=burst_gap_us)
    rate = check_sample_rate(sample_rate, shown) if sample_rate is not None else DEFAULT_PULSE_RATE
    res = resolve(shown, name=name, file_meta={"center_freq": sub.frequency_hz},
                  sample_rate=rate, center_freq=center_freq, start_time=start_time)
    res.sources["sample_rate"] = "explicit" if sample_rate is not None else "render default"
    trains = [replace(b, freq_hz=res.center_freq) for b in sub.bursts]
    warnings = []
    extra = {"metadata_sources": res.sources, "preset": sub.preset, "modulation": sub.modulation,
             "protocol": sub.protocol, "fsk_deviation_hz": sub.fsk_deviation_hz,
             "burst_gap_us": sub.burst_gap_us}
    if not sub.is_raw:
        extra["sub"] = {"protocol": sub.protocol, "bit": sub.bit,
                        "key": None if sub.key is None else sub.key.hex().upper(),
                        "te_us": sub.te_us, **{k: v for k, v in sub.fields.items()}}
        warnings.append(f"decoded-protocol file ({sub.protocol}): no RAW pulses to render")
    cap = Capture(path=shown, format="sub", sample_rate=res.sample_rate,
                  center_freq=res.center_freq, start_time=res.start_time,
                  assumed=res.assumed, warnings=warnings, pulse_trains=trains,
                  file_paths=(str(path),), extra=extra)
    return _attach_renderer(cap, sub.duration_s, offsets=[0.0] * len(trains))


def open_ook(path: str | Path, *, spec: str | None = None, name: NameInfo | None = None,
             sample_rate: float | None = None, center_freq: float | None = None,
             start_time: datetime | str | None = None) -> Capture:
    """Open an rtl_433 ``.ook`` pulse file as a pulse capture (see module doc).

    sample_rate: render rate (Hz), default the file's ``;samplerate``; center_freq: default the
    file's ``;centerfreq`` (0 = unknown), else the name's, else 433.92 MHz (assumed).
    """
    shown = spec or str(path)
    ook = read_ook(path)
    res = resolve(shown, name=name, file_meta={"sample_rate": ook.sample_rate,
                                                "center_freq": ook.center_freq},
                  sample_rate=sample_rate, center_freq=center_freq, start_time=start_time)
    offsets = [float(b.freq_hz or 0.0) for b in ook.bursts]
    centre_known = res.sources.get("center_freq") not in (None, "default")
    trains = []
    for b, off in zip(ook.bursts, offsets):
        meta = dict(b.meta, freq_offset_hz=off)
        # absolute carrier when the centre is known, else the offset (PulseTrain's convention)
        trains.append(replace(b, freq_hz=res.center_freq + off if centre_known else off, meta=meta))
    extra = {"metadata_sources": res.sources, "ook_created": ook.created}
    cap = Capture(path=shown, format="ook", sample_rate=res.sample_rate,
                  center_freq=res.center_freq, start_time=res.start_time, assumed=res.assumed,
                  warnings=list(ook.warnings), pulse_trains=trains, file_paths=(str(path),),
                  extra=extra)
    return _attach_renderer(cap, ook.duration_s, offsets=offsets)


def _attach_renderer(cap: Capture, duration_s: float, *, offsets: list[float],
                     snr_db: float | None = DEFAULT_PULSE_SNR_DB, seed: int = 0,
                     amplitude: float = DEFAULT_PULSE_AMPLITUDE) -> Capture:
    cap.num_samples = _num_samples(duration_s, cap.sample_rate)
    cap.reader = PulseRenderReader(cap.pulse_trains or [], cap.sample_rate, cap.num_samples,
                                   offsets_hz=offsets, amplitude=amplitude, snr_db=snr_db, seed=seed)
    cap.extra.update({"render_snr_db": snr_db, "render_seed": seed, "render_amplitude": amplitude,
                      "pulse_duration_s": duration_s, "render_offsets_hz": offsets})
    return cap


def pulse_capture_to_iq(capture: Capture, sample_rate: float, snr_db: float | None = None,
                        freq_offset_hz: float = 0.0, seed: int = 0,
                        amplitude: float = DEFAULT_PULSE_AMPLITUDE) -> Capture:
    """A copy of a pulse capture rendered as synthetic I/Q at ``sample_rate`` (Hz).

    snr_db: None for a clean render, else burst SNR in dB (noise over the whole band).
    freq_offset_hz: added to every burst's own carrier offset (Hz). seed: noise seed.
    The original capture is not changed; the copy keeps its path, format and pulse trains.
    """
    if capture.pulse_trains is None:
        raise ValueError(f"{capture.path}: not a pulse capture (format {capture.format})")
    rate = check_sample_rate(sample_rate, capture.path)
    base = capture.extra.get("render_offsets_hz") or [0.0] * len(capture.pulse_trains)
    out = replace(capture, sample_rate=rate, warnings=list(capture.warnings),
                  assumed=tuple(a for a in capture.assumed if a != "sample_rate"),
                  annotations=list(capture.annotations), extra=dict(capture.extra), reader=None)
    out.extra["metadata_sources"] = dict(capture.extra.get("metadata_sources", {}),
                                         sample_rate="explicit")
    return _attach_renderer(out, capture.extra.get("pulse_duration_s", capture.duration),
                            offsets=[o + freq_offset_hz for o in base], snr_db=snr_db, seed=seed,
                            amplitude=amplitude)
