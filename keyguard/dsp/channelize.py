"""Channelisation: the short-time power spectrum of the whole band, and per-burst channels.

Two halves of one job:

* :class:`TickSpectrum` turns the wideband stream into a coarse time-frequency power grid: the
  band is cut into non-overlapping Hann-windowed FFT frames of ``n_fft`` samples (≈ 4 kHz bins),
  and ``frames_per_tick`` frames are summed into one *tick* (≈ 1 ms). This is the only work done
  on every sample, so it is written for speed: one complex multiply for the window, one batched
  FFT, an in-place square and a strided sum. The Hann window keeps a strong carrier's leakage
  below the noise 5 bins (≈ 20 kHz) away, so a fob 50 kHz from a +30 dB jammer stays visible.
* :func:`extract_channel` shifts one burst's carrier to 0 Hz, low-pass filters it to the channel
  bandwidth and decimates it (in the frequency domain: one FFT, a few bins, one short inverse
  FFT), only where the detector found energy.

Power units: a tick value is the mean over its frames of ``|FFT(x·w)|² / (N·Σw²)``, so summed over
all bins it is the mean power of the samples (full scale 1.0 = 0 dBFS); white noise of total
power σ² gives σ²/N per bin, and a tone's power is the sum over the bins it covers.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Sequence

import numpy as np
import scipy.fft


def fft_size_for(sample_rate: float, bin_hz: float) -> int:
    """The power-of-two FFT length whose bin width is closest to ``bin_hz`` (Hz), at least 16."""
    n = sample_rate / max(bin_hz, 1.0)
    return int(max(16, 2 ** round(math.log2(max(n, 1.0)))))


#: frames the spectrum's window is repeated over for one multiply (see TickSpectrum)
_WINDOW_FRAMES = 64


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
        # (−1)^n moves every bin by n_fft/2, so the FFT comes out centred (fftshift for free)
        self._window = (w * (-1.0) ** np.arange(self.n_fft)).astype(np.float32)
        # the same window for the samples' interleaved float view (I and Q alike): a real
        # multiply with no cast of the window to complex on every frame, same values
        self._window_iq = np.repeat(self._window, 2)
        # ... and repeated over _WINDOW_FRAMES frames: the multiply's inner loop then runs over
        # thousands of values instead of one frame's (a third less time at 64-sample frames)
        self._window_iq_frames = np.tile(self._window_iq, _WINDOW_FRAMES)
        self._scale = np.float32(1.0 / (self.n_fft * float(np.sum(w * w)) * self.frames_per_tick))
        self._carry = np.zeros(0, dtype=np.complex64)
        self._dc_scale = np.float32(1.0 / float(np.sum(w)))
        #: mean sample value (complex: the receiver's DC offset) of each tick last returned
        self.dc = np.zeros(0, dtype=np.complex64)
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
            self.dc = np.zeros(0, dtype=np.complex64)
            return np.zeros((0, self.n_fft), dtype=np.float32)
        return self._power(x[:used], n_ticks, self.frames_per_tick)

    def flush(self) -> np.ndarray:
        """The last, partial tick (mean over its whole frames), or an empty array."""
        frames = self._carry.size // self.n_fft
        x = self._carry[: frames * self.n_fft]
        self._carry = self._carry[:0]
        if frames == 0:
            self.dc = np.zeros(0, dtype=np.complex64)
            return np.zeros((0, self.n_fft), dtype=np.float32)
        self.next_tick += 1
        p = self._power(x, 1, frames)
        return p * np.float32(self.frames_per_tick / frames)

    def frame_power(self, x: np.ndarray | Sequence[np.ndarray],
                    max_frames: int | None = None) -> np.ndarray:
        """Power spectrum of single FFT frames of ``x`` (frames × bins, centred, unscaled).

        ``x`` may be one array or consecutive pieces of a stretch (taken as concatenated;
        only the frames used are copied). With ``max_frames``, at most that many frames,
        evenly spread over ``x`` (an envelope comparison over seconds of signal needs the
        shape, not every frame): the cost is bounded whatever the length of ``x``.
        """
        n = self.n_fft
        pieces = [x] if isinstance(x, np.ndarray) else list(x)
        m = sum(p.size for p in pieces) // n
        pick = None
        if max_frames is not None and m > max_frames:
            pick = np.linspace(0, m - 1, max_frames).astype(np.int64)
        if len(pieces) == 1:
            frames = pieces[0][: m * n].reshape(m, n)
            if pick is not None:
                buf = frames[pick] * self._window
            else:
                buf = np.multiply(frames, self._window, dtype=np.complex64)
        else:
            buf = _gather_frames(pieces, np.arange(m) if pick is None else pick, n)
            buf *= self._window
        spec = scipy.fft.fft(buf, axis=1, overwrite_x=True, workers=1)
        return spec.real ** 2 + spec.imag ** 2

    def _power(self, x: np.ndarray, n_ticks: int, frames: int) -> np.ndarray:
        n = self.n_fft
        buf = np.empty((x.size // n, n), dtype=np.complex64)
        iq, out = x.view(np.float32), buf.view(np.float32).reshape(-1)
        w = self._window_iq_frames
        bulk = iq.size - iq.size % w.size  # whole runs of _WINDOW_FRAMES frames, then the rest
        np.multiply(iq[:bulk].reshape(-1, w.size), w, out=out[:bulk].reshape(-1, w.size))
        if bulk < iq.size:
            np.multiply(iq[bulk:].reshape(-1, 2 * n), self._window_iq,
                        out=out[bulk:].reshape(-1, 2 * n))
        spec = scipy.fft.fft(buf, axis=1, overwrite_x=True, workers=1)
        # the receiver's DC offset per tick (Hann-weighted mean), before the bins are squared;
        # the window's sign alternation put 0 Hz in the middle bin
        dc = spec[:, n // 2].reshape(n_ticks, frames)
        self.dc = (dc.sum(axis=1) if frames > 1 else dc[:, 0]) * (self._dc_scale / frames)
        flat = spec.view(np.float32)
        np.multiply(flat, flat, out=flat)
        # each tick's frames summed in order, frame by frame: what np.add.reduce over the frame
        # axis does, without the buffered copies of its reduction over a middle axis (a third
        # fewer instructions)
        per_tick = flat.reshape(n_ticks, frames, 2 * n)
        acc = per_tick[:, 0] if frames == 1 else np.add(per_tick[:, 0], per_tick[:, 1])
        for f in range(2, frames):
            acc += per_tick[:, f]
        p = np.add(acc[:, 0::2], acc[:, 1::2])
        p *= self._scale
        return p


def _gather_frames(pieces: Sequence[np.ndarray], frames: np.ndarray, n: int) -> np.ndarray:
    """Frames ``frames`` (indices, ascending) of ``n`` samples of the concatenation of
    ``pieces``, as a new (len(frames), n) complex64 array: frames inside one piece are
    taken through a strided view of it, the few that straddle two pieces one by one."""
    out = np.empty((frames.size, n), dtype=np.complex64)
    first = frames * n                      # sample index of each frame's start
    bounds = np.cumsum([0] + [p.size for p in pieces])
    home = np.searchsorted(bounds, first, side="right") - 1   # piece holding each start
    whole = first + n <= bounds[home + 1]
    for k, p in enumerate(pieces):
        sel = np.flatnonzero(whole & (home == k))
        if sel.size == 0:
            continue
        local = first[sel] - bounds[k]
        s0 = int(local[0])
        count = (p.size - s0) // n
        view = np.lib.stride_tricks.as_strided(p[s0:], shape=(count, n),
                                               strides=(n * p.strides[0], p.strides[0]),
                                               writeable=False)
        out[sel] = view[(local - s0) // n]
    for i in np.flatnonzero(~whole).tolist():
        a = int(first[i])
        row, pos = out[i], 0
        for k in range(int(home[i]), len(pieces)):
            lo = max(a, int(bounds[k])) - int(bounds[k])
            take = pieces[k][lo:lo + n - pos]
            row[pos:pos + take.size] = take
            pos += take.size
            if pos == n:
                break
    return out


def channel_decimation(sample_rate: float, bandwidth_hz: float, rate_factor: float = 2.5) -> int:
    """Decimation factor that leaves at least ``rate_factor × bandwidth_hz`` samples per second."""
    return max(1, int(sample_rate // (rate_factor * bandwidth_hz)))


def channel_response(freq_hz: np.ndarray, bandwidth_hz: float) -> np.ndarray:
    """The channel filter's gain at ``freq_hz`` (Hz from the channel centre).

    Flat over ±bandwidth/2, a raised-cosine roll-off to zero at ±0.75·bandwidth, zero beyond:
    a carrier farther than 0.75·bandwidth from the channel centre does not get in at all.
    """
    a = np.abs(freq_hz)
    half, roll = 0.5 * bandwidth_hz, 0.25 * bandwidth_hz
    g = 0.5 * (1.0 + np.cos(np.pi * np.clip((a - half) / roll, 0.0, 1.0)))
    return np.where(a <= half, 1.0, g)


def channel_noise_bandwidth(bandwidth_hz: float) -> float:
    """Noise bandwidth (Hz) of :func:`channel_response`: ∫|H(f)|² df = 1.1875 × bandwidth."""
    return bandwidth_hz * (1.0 + 2.0 * 0.25 * 0.375)


@functools.lru_cache(maxsize=64)
def _taper_ramp(length: int) -> np.ndarray:
    """Raised-cosine fade-in of ``length`` samples (float32)."""
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)).astype(np.float32)
    ramp.flags.writeable = False  # shared between calls
    return ramp


@functools.lru_cache(maxsize=64)
def _channel_mask(m: int, bin_hz: float, bandwidth_hz: float) -> np.ndarray:
    """:func:`channel_response` on the ``m`` output bins (FFT order) of a ``bin_hz`` grid, as
    complex64 (the float32 gains with zero imaginary parts: the values the spectrum's product
    cast them to, cast once here instead of chunk by chunk in every product)."""
    j = np.fft.fftfreq(m, 1.0 / m)
    mask = channel_response(j * bin_hz, bandwidth_hz).astype(np.float32).astype(np.complex64)
    mask.flags.writeable = False  # shared between calls
    return mask


#: largest window buffer (complex samples) kept for reuse between calls, per thread: 16 MB
_REUSE_MAX = 1 << 21
#: windows transformed per batch come in multiples of this many rows
_BATCH_ROWS = 8
_reuse = threading.local()


def _window_buffer(n_win: int, nfft: int) -> np.ndarray:
    """An (n_win, nfft) complex64 buffer for :func:`extract_channel`'s windows, contents
    undefined (every row is written whole). Buffers up to ``_REUSE_MAX`` samples are kept and
    reused by the calling thread: a fresh one would be faulted in page by page on every call,
    which costs as much as its FFT. The caller must not let the buffer escape."""
    size = n_win * nfft
    if size > _REUSE_MAX:
        return np.empty((n_win, nfft), dtype=np.complex64)
    held = getattr(_reuse, "buf", None)
    if held is None or held.size < size:
        held = _reuse.buf = np.empty(max(size, 1 << 16), dtype=np.complex64)
    return held[:size].reshape(n_win, nfft)


def _fill_window(row: np.ndarray, pieces: Sequence[np.ndarray], a: int, n: int,
                 dc: np.complex64, ramp: np.ndarray | None) -> None:
    """Write segment samples [a, a + len(row)) into ``row`` (zeros outside [0, n)):
    ``dc`` subtracted, the first and last len(ramp) samples of the segment faded in/out."""
    lo, hi = max(a, 0), min(a + row.size, n)
    if hi <= lo:
        row[:] = 0
        return
    row[:lo - a] = 0
    row[hi - a:] = 0
    pos = 0
    for p in pieces:
        s, e = max(lo, pos), min(hi, pos + p.size)
        if s < e:
            if dc:
                np.subtract(p[s - pos:e - pos], dc, out=row[s - a:e - a])
            else:
                row[s - a:e - a] = p[s - pos:e - pos]
        pos += p.size
    if ramp is not None:
        t = ramp.size
        s, e = lo, min(hi, t)             # the fade-in
        if s < e:
            row[s - a:e - a] *= ramp[s:e]
        s, e = max(lo, n - t), hi         # the fade-out
        if s < e:
            row[s - a:e - a] *= ramp[::-1][s - (n - t):e - (n - t)]


def _channel_bins(spec: np.ndarray, shift: int, m: int) -> np.ndarray:
    """The ``m`` bins around bin ``shift`` of every row of ``spec`` (a new array), in FFT order
    (``fftfreq``: bins 0, 1, … then the negative ones), as ``spec[:, (shift + j) % nfft]``
    gives them: two runs of consecutive bins, each copied by slices (at most two, where it
    wraps past the last bin) rather than gathered bin by bin (three times faster)."""
    nfft = spec.shape[1]
    sel = np.empty((spec.shape[0], m), dtype=spec.dtype)
    pos_n = (m + 1) // 2  # fftfreq's non-negative bins, then the m − pos_n negative ones
    for lo, hi, first in ((0, pos_n, shift), (pos_n, m, shift - (m - pos_n))):
        k = lo
        while k < hi:
            b = (first + k - lo) % nfft
            count = min(hi - k, nfft - b)
            sel[:, k:k + count] = spec[:, b:b + count]
            k += count
    return sel


def extract_channel(samples: np.ndarray | Sequence[np.ndarray], sample_rate: float,
                    offset_hz: float, bandwidth_hz: float, rate_factor: float = 2.5,
                    taper_s: float = 5e-4, chunk: int = 8192,
                    dc: complex = 0j) -> tuple[np.ndarray, float, int]:
    """Shift a carrier at ``offset_hz`` to 0 Hz, filter to ``bandwidth_hz`` and decimate.

    ``samples`` may be one array or consecutive pieces of the segment (taken as concatenated,
    never copied twice); ``dc`` (the receiver's DC offset) is subtracted from every sample.

    Done in the frequency domain: FFTs of the input, the channel's bins weighted by
    :func:`channel_response` around the carrier, short inverse FFTs at the decimated rate.
    That is cheaper than a long FIR at high decimation and needs no mixer. A long segment is
    cut into overlapping windows of ``chunk`` output samples (overlap-save, all windows in one
    batched FFT), which keeps the transforms short and in cache. The segment's first and last
    ``taper_s`` seconds are faded in and out, so a strong carrier cut by the segment ends does
    not wrap into a step that splashes into every channel; callers keep a margin of several
    ms around a burst.

    Returns (channel samples complex64, channel rate Hz, decimation D); output sample k lines
    up with input sample k·D. The carrier is shifted by a whole number of FFT bins, within
    half a bin (a few Hz) of ``offset_hz``.
    """
    d = channel_decimation(sample_rate, bandwidth_hz, rate_factor)
    pieces = [samples] if isinstance(samples, np.ndarray) else list(samples)
    n = sum(p.size for p in pieces)
    out_n = -(-n // d)
    # output samples of filter run-in dropped at each window's ends: the response of the
    # raised-cosine mask decays like 1/t³ and must be ~90 dB down by then, or a carrier 60 dB
    # above the channel's signal leaks in at the window joins
    guard = int(math.ceil(24.0 / (0.25 * bandwidth_hz) * sample_rate / d))
    if out_n <= 2 * chunk:
        m = scipy.fft.next_fast_len(out_n)
        hop, n_win, lead = m, 1, 0
        guard_lo = 0
    else:
        m = scipy.fft.next_fast_len(chunk + 2 * guard)
        hop = m - 2 * guard
        n_win = -(-out_n // hop)
        lead = guard * d
        guard_lo = guard
    nfft = m * d
    # every window's input written straight into its row of a reused buffer (zero-padded
    # outside the segment, the segment's ends faded), then transformed in place, a batch of
    # windows at a time: the buffer stays bounded and warm (fresh pages cost as much as the
    # transform here), and a window's result does not depend on its batch; the caller's
    # samples are never copied twice or changed
    starts = np.arange(n_win) * hop * d - lead  # input index of each window's start
    taper = min(int(taper_s * sample_rate), n // 8)
    ramp = _taper_ramp(taper) if taper > 1 else None
    dc64 = np.complex64(dc)
    shift = int(round(offset_hz * nfft / sample_rate))
    mask = _channel_mask(m, sample_rate / nfft, float(bandwidth_hz))
    # every window mixed from its own start: put them all on the phase of the first sample
    f_shift = shift * sample_rate / nfft
    phase = (np.exp(-2j * np.pi * f_shift * starts / sample_rate) * (m / nfft)).astype(np.complex64)
    out = np.empty((n_win, hop), dtype=np.complex64)
    # whole SIMD groups of rows per batch: the FFT transforms several rows at once
    batch = max(_BATCH_ROWS, _REUSE_MAX // nfft // _BATCH_ROWS * _BATCH_ROWS)
    starts_l = starts.tolist()
    for w0 in range(0, n_win, batch):
        w1 = min(n_win, w0 + batch)
        buf = _window_buffer(w1 - w0, nfft)
        for row, a in zip(buf, starts_l[w0:w1]):
            _fill_window(row, pieces, a, n, dc64, ramp)
        spec = scipy.fft.fft(buf, axis=1, overwrite_x=True, workers=1)
        sel = _channel_bins(spec, shift, m)
        sel *= mask
        y = scipy.fft.ifft(sel, axis=1, overwrite_x=True, workers=1)
        y *= phase[w0:w1, None]
        out[w0:w1] = y[:, guard_lo:guard_lo + hop]
    y = out.reshape(-1)
    return y[:out_n].astype(np.complex64, copy=False), sample_rate / d, d
