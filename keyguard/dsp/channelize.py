"""Channelisation: the short-time power spectrum of the whole band, and per-burst channels.

Two halves of one job:

* :class:`TickSpectrum` turns the wideband stream into a coarse time-frequency power grid: the
  band is cut into non-overlapping Hann-windowed FFT frames of ``n_fft`` samples (≈ 4 kHz bins),
  and ``frames_per_tick`` frames are summed into one *tick* (≈ 1 ms). This is the only work done
  on every sample, so it is written for speed: one complex multiply for the window, one batched
  FFT, an in-place square and a strided sum. The Hann window keeps a strong carrier's leakage
  below the noise 5 bins (≈ 20 kHz) away, so a fob 50 kHz from a +30 dB jammer stays visible.
* :func:`extract_channel` shifts one burst's carrier to 0 Hz, low-pass filters it to the channel
  bandwidth and decimates it (polyphase FIR, ``scipy.signal.upfirdn``), only where the detector
  found energy.

Power units: a tick value is the mean over its frames of ``|FFT(x·w)|² / (N·Σw²)``, so summed over
all bins it is the mean power of the samples (full scale 1.0 = 0 dBFS); white noise of total
power σ² gives σ²/N per bin, and a tone's power is the sum over the bins it covers.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy import signal


def fft_size_for(sample_rate: float, bin_hz: float) -> int:
    """The power-of-two FFT length whose bin width is closest to ``bin_hz`` (Hz), at least 16."""
    n = sample_rate / max(bin_hz, 1.0)
    return int(max(16, 2 ** round(math.log2(max(n, 1.0)))))


class TickSpectrum:
    """Streaming short-time power spectrum on an absolute sample grid.

    Tick ``j`` covers capture samples ``[j·tick_len, (j+1)·tick_len)`` whatever the block sizes,
    so results do not depend on how the stream is cut. ``push`` returns the complete ticks' power
    (rows = ticks, columns = bins in ascending frequency, bin ``n_fft//2`` = the centre).
    """

    def __init__(self, sample_rate: float, n_fft: int, frames_per_tick: int):
        self.sample_rate = float(sample_rate)
        self.n_fft = int(n_fft)
        self.frames_per_tick = int(frames_per_tick)
        self.tick_len = self.n_fft * self.frames_per_tick
        w = np.hanning(self.n_fft + 1)[:-1]  # periodic Hann: exact sidelobe structure per frame
        self._window = w.astype(np.float32)
        self._scale = np.float32(1.0 / (self.n_fft * float(np.sum(w * w)) * self.frames_per_tick))
        self._carry = np.zeros(0, dtype=np.complex64)
        self.next_tick = 0  # index of the next tick to be produced

    @property
    def bin_hz(self) -> float:
        return self.sample_rate / self.n_fft

    def bin_offsets_hz(self) -> np.ndarray:
        """Centre frequency of every bin, Hz from the capture centre."""
        return (np.arange(self.n_fft) - self.n_fft // 2) * self.bin_hz

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Append contiguous samples; returns the power of every tick completed (T × n_fft)."""
        x = samples if not self._carry.size else np.concatenate([self._carry, samples])
        n_ticks = x.size // self.tick_len
        used = n_ticks * self.tick_len
        self._carry = np.array(x[used:], dtype=np.complex64, copy=True)
        self.next_tick += n_ticks
        if n_ticks == 0:
            return np.zeros((0, self.n_fft), dtype=np.float32)
        return self._power(x[:used], n_ticks, self.frames_per_tick)

    def flush(self) -> np.ndarray:
        """The last, partial tick (mean over its whole frames), or an empty array."""
        frames = self._carry.size // self.n_fft
        x = self._carry[: frames * self.n_fft]
        self._carry = self._carry[:0]
        if frames == 0:
            return np.zeros((0, self.n_fft), dtype=np.float32)
        self.next_tick += 1
        p = self._power(x, 1, frames)
        return p * np.float32(self.frames_per_tick / frames)

    def _power(self, x: np.ndarray, n_ticks: int, frames: int) -> np.ndarray:
        f = x.reshape(-1, self.n_fft)
        buf = np.multiply(f, self._window, dtype=np.complex64)
        spec = scipy.fft.fft(buf, axis=1, overwrite_x=True, workers=1)
        flat = spec.view(np.float32)
        np.multiply(flat, flat, out=flat)
        acc = np.add.reduce(flat.reshape(n_ticks, frames, 2 * self.n_fft), axis=1)
        p = acc[:, 0::2] + acc[:, 1::2]
        p *= self._scale
        return np.fft.fftshift(p, axes=1)


def channel_decimation(sample_rate: float, bandwidth_hz: float, rate_factor: float = 2.5) -> int:
    """Decimation factor that leaves at least ``rate_factor × bandwidth_hz`` samples per second."""
    return max(1, int(sample_rate // (rate_factor * bandwidth_hz)))


_FILTERS: dict[tuple, np.ndarray] = {}


def channel_filter(sample_rate: float, bandwidth_hz: float, decimation: int) -> np.ndarray:
    """Low-pass FIR taps (float32, unit DC gain) for a channel of ``bandwidth_hz`` (two-sided, Hz).

    Kaiser window, ≈ 60 dB stop band, transition from bandwidth/2 to 0.75·bandwidth, so a carrier
    outside the channel is suppressed before decimation folds it anywhere. The length is
    ``2·decimation·q + 1``: the group delay is then exactly ``q`` output samples.
    """
    key = (float(sample_rate), float(bandwidth_hz), int(decimation))
    taps = _FILTERS.get(key)
    if taps is None:
        cutoff = 0.5 * bandwidth_hz
        transition = 0.25 * bandwidth_hz
        numtaps, beta = signal.kaiserord(60.0, transition / (0.5 * sample_rate))
        q = max(1, math.ceil((numtaps - 1) / (2 * decimation)))
        n = 2 * decimation * q + 1
        nyq = 0.5 * sample_rate
        taps = signal.firwin(n, min(cutoff + 0.5 * transition, 0.98 * nyq) / nyq,
                             window=("kaiser", beta)).astype(np.float32)
        if len(_FILTERS) > 64:
            _FILTERS.clear()
        _FILTERS[key] = taps
    return taps


def extract_channel(samples: np.ndarray, sample_rate: float, first_index: int, offset_hz: float,
                    bandwidth_hz: float, rate_factor: float = 2.5) -> tuple[np.ndarray, float, int]:
    """Shift a carrier at ``offset_hz`` to 0 Hz, filter to ``bandwidth_hz`` and decimate.

    samples: complex64 wideband samples whose first one is capture sample ``first_index`` (the
    mixer phase is taken from the absolute index, so pieces of one stream line up).
    Returns (channel samples complex64, channel rate Hz, decimation). Output sample k lines up
    with input sample ``k·decimation`` (the filter delay is removed).
    """
    d = channel_decimation(sample_rate, bandwidth_hz, rate_factor)
    taps = channel_filter(sample_rate, bandwidth_hz, d)
    n = samples.size
    # phase in cycles, reduced modulo 1 in float64 so a capture hours long keeps full precision
    step = offset_hz / sample_rate
    start_cycles = (step * first_index) % 1.0
    cycles = (start_cycles + step * np.arange(n, dtype=np.float64)) % 1.0
    mixed = samples * np.exp(-2j * np.pi * cycles).astype(np.complex64)
    q = (taps.size - 1) // (2 * d)
    y = signal.upfirdn(taps, mixed, up=1, down=d)
    out_n = -(-n // d)
    y = y[q:q + out_n]
    return y.astype(np.complex64, copy=False), sample_rate / d, d
