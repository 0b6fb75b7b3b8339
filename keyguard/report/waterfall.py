"""Decimated spectrograms and envelopes of a capture, streamed in bounded memory.

A report shows an hour of IQ as ~1500 time rows. :func:`stream_power` reads a sample span through
:meth:`Capture.blocks`, takes Hann-windowed FFT frames, averages each run of ``avg_frames``
consecutive frames (Welch) and keeps, per time row, both the mean and the peak of those averages.
Peak-hold of short averages keeps a 100 ms fob burst visible in a row that spans seconds, where
the plain mean would dilute it into the noise; the short average keeps the noise floor of the
peak-hold only a few dB above the mean. Only row accumulators (rows × nfft) and one block live in
memory, whatever the capture's length. Power is in dBFS per FFT bin: a full-scale tone reads
0 dB.

The same pass can produce an amplitude envelope (mean and peak of |x| per output point), which
the alert zooms draw under their spectrogram.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.fft

from keyguard.io.capture import Capture

#: Samples read per block: large enough that the per-block Python work is negligible, small
#: enough to keep the working set at a few tens of MB (complex64 block + frames + FFT).
STREAM_BLOCK = 1 << 20

#: Below this many samples a span has no usable spectrogram.
MIN_SAMPLES = 64


@dataclass
class Spectrogram:
    """Power per time row and frequency bin of a sample span.

    peak_db, mean_db: (rows, nfft) float32, dBFS per bin, frequency ascending (fft-shifted).
    row_t: (rows + 1,) row edges in seconds from the capture's first sample.
    freqs_hz: (nfft,) bin centres: absolute Hz when the capture's centre is known, else offset
    from the centre. frames: FFT frames taken; avg_frames: frames per averaged group.
    """

    peak_db: np.ndarray
    mean_db: np.ndarray
    row_t: np.ndarray
    freqs_hz: np.ndarray
    nfft: int
    hop: int
    frames: int
    avg_frames: int
    centre_known: bool

    @property
    def t0(self) -> float:
        return float(self.row_t[0])

    @property
    def t1(self) -> float:
        return float(self.row_t[-1])

    @property
    def bin_hz(self) -> float:
        return float(self.freqs_hz[1] - self.freqs_hz[0]) if self.freqs_hz.size > 1 else 0.0


@dataclass
class Envelope:
    """Amplitude envelope of a span: mean and peak |x| (full scale 1.0) per point.

    t: (points,) centre of each point, seconds from the capture's first sample.
    """

    t: np.ndarray
    mean: np.ndarray
    peak: np.ndarray


def span_samples(capture: Capture, start_s: float | None, stop_s: float | None) -> tuple[int, int]:
    """The sample range [a, b) of a time span (s), clipped to the capture."""
    n = int(capture.num_samples)
    a = 0 if start_s is None else int(math.floor(max(0.0, start_s) * capture.sample_rate))
    b = n if stop_s is None else int(math.ceil(max(0.0, stop_s) * capture.sample_rate))
    a, b = min(a, n), min(max(b, 0), n)
    return a, max(a, b)


def stream_power(capture: Capture, start_s: float | None = None, stop_s: float | None = None, *,
                 rows: int = 1500, nfft: int = 512, hop: int | None = None,
                 avg_frames: int | None = None, envelope_points: int = 0,
                 block: int = STREAM_BLOCK) -> tuple[Spectrogram | None, Envelope | None]:
    """Spectrogram (≤ ``rows`` rows × ``nfft`` bins) and optional envelope of a span, one pass.

    start_s, stop_s: the span in seconds from the first sample (None: the capture's ends).
    hop: samples between frame starts (default ``nfft``: no overlap); a zoom uses a smaller hop
    for finer time rows. avg_frames: frames averaged before the peak-hold (default: up to 8,
    fewer when a row holds fewer frames). envelope_points: 0 for no envelope.
    Returns (None, None) when the span holds fewer than :data:`MIN_SAMPLES` samples.
    """
    a, b = span_samples(capture, start_s, stop_s)
    n = b - a
    if n < MIN_SAMPLES or capture.reader is None:
        return None, None
    fs = float(capture.sample_rate)
    nfft = int(min(nfft, 1 << int(math.floor(math.log2(n)))))
    hop = nfft if hop is None else int(max(1, min(hop, nfft)))
    frames = (n - nfft) // hop + 1
    per_row = frames / max(1, rows)
    g = int(avg_frames) if avg_frames else int(max(1, min(8, math.floor(per_row))))
    groups = -(-frames // g)
    rows = int(max(1, min(rows, groups)))

    acc = _RowAccumulator(rows, groups, nfft)
    env = _EnvelopeAccumulator(a, b, envelope_points) if envelope_points > 0 else None
    window = np.hanning(nfft + 2)[1:-1].astype(np.float32)  # no zero end-points
    scale = np.float32(1.0 / float(window.sum()) ** 2)  # full-scale tone → 1.0 (0 dBFS)
    pending: tuple[int, np.ndarray, int] | None = None  # (group, power sum, frames) carried over
    next_frame = 0
    block = max(int(block), 4 * nfft)
    for blk in capture.blocks(block_size=block, overlap=nfft, start=a, stop=b):
        x = blk.samples
        if env is not None:
            env.add(blk.start + blk.overlap, x[blk.overlap:])
        # frames whose first sample is at or after this block's first and that end inside it
        first = a + next_frame * hop - blk.start
        if first < 0:  # cannot happen with overlap = nfft ≥ hop; guard the invariant anyway
            raise RuntimeError("spectrogram frames fell behind the block stream")
        if x.size - first < nfft:
            continue
        count = min(frames - next_frame, (x.size - nfft - first) // hop + 1)
        if count <= 0:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(x, nfft)
        view = windows[first:first + (count - 1) * hop + 1:hop]
        spec = scipy.fft.fft(view * window, axis=1, overwrite_x=True)
        power = np.abs(spec)
        power *= power  # |X|² (np.abs then square is faster than re² + im²)
        pending = _group_frames(power, next_frame, g, pending, acc)
        next_frame += count
    if pending is not None:
        gid, s, c = pending
        acc.add(np.array([gid]), (s / c)[None, :], np.array([c]))

    freqs = np.fft.fftshift(np.fft.fftfreq(nfft, 1.0 / fs))
    centre_known = capture.center_freq is not None
    if centre_known:
        freqs = freqs + float(capture.center_freq)
    peak, mean = acc.result(scale)
    first_group = np.ceil(np.arange(rows + 1) * groups / rows).astype(np.int64)
    edge_samples = a + np.minimum(first_group * g * hop, n)
    edge_samples[-1] = a + min(n, (frames - 1) * hop + nfft)
    sg = Spectrogram(peak_db=peak, mean_db=mean, row_t=edge_samples / fs, freqs_hz=freqs,
                     nfft=nfft, hop=hop, frames=frames, avg_frames=g, centre_known=centre_known)
    return sg, (env.result(fs) if env is not None else None)


def _group_frames(power: np.ndarray, f0: int, g: int, pending, acc: "_RowAccumulator"):
    """Sum consecutive frames into groups of ``g`` (by global frame index), hand the complete
    groups' means to ``acc`` and return the last, possibly incomplete, group as pending.

    The whole groups in the middle are summed with a reshape (much faster than ``reduceat``);
    only the group cut by the block's start is merged with the pending one.
    """
    n = power.shape[0]
    head = min(n, (-f0) % g)  # frames completing the group the previous block left open
    if pending is not None and (head == 0 or pending[0] != f0 // g):
        pg, ps, pc = pending  # the open group got no more frames: it is complete
        acc.add(np.array([pg]), (ps / pc)[None, :], np.array([pc]))
        pending = None
    if head:
        s = power[:head].sum(axis=0)
        if pending is not None:
            s += pending[1]
            c = pending[2] + head
        else:
            c = head
        pending = (f0 // g, s, c)
        if c == g:
            acc.add(np.array([f0 // g]), (s / c)[None, :], np.array([c]))
            pending = None
    start = f0 + head
    full = (n - head) // g
    if full:
        sums = power[head:head + full * g].reshape(full, g, -1).sum(axis=1)
        acc.add(start // g + np.arange(full), sums / g, np.full(full, g))
    rest = n - head - full * g
    if rest:
        if pending is not None:  # cannot be: a pending group was closed above
            raise RuntimeError("spectrogram frame groups out of order")
        pending = ((start + full * g) // g, power[n - rest:].sum(axis=0), rest)
    return pending


class _RowAccumulator:
    """Peak and frame-weighted mean of group powers per time row."""

    def __init__(self, rows: int, groups: int, nfft: int):
        self.rows, self.groups = rows, groups
        self.peak = np.zeros((rows, nfft), np.float32)
        self.total = np.zeros((rows, nfft), np.float64)
        self.frames = np.zeros(rows, np.int64)

    def add(self, gids: np.ndarray, means: np.ndarray, counts: np.ndarray) -> None:
        r = (gids.astype(np.int64) * self.rows) // self.groups
        starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
        ur = r[starts]
        self.peak[ur] = np.maximum(self.peak[ur], np.maximum.reduceat(means, starts, axis=0))
        self.total[ur] += np.add.reduceat(means * counts[:, None], starts, axis=0)
        self.frames[ur] += np.add.reduceat(counts, starts)

    def result(self, scale: np.float32) -> tuple[np.ndarray, np.ndarray]:
        mean = self.total / np.maximum(self.frames, 1)[:, None]
        tiny = 1e-20  # −200 dB: an all-zero row stays finite
        peak = 10.0 * np.log10(np.fft.fftshift(self.peak * scale, axes=1) + tiny)
        mean = 10.0 * np.log10(np.fft.fftshift(mean * float(scale), axes=1) + tiny)
        return peak.astype(np.float32), mean.astype(np.float32)


class _EnvelopeAccumulator:
    """Mean and peak |x| over ``points`` equal sample bins of [a, b), fed block by block."""

    def __init__(self, a: int, b: int, points: int):
        self.a = a
        self.points = int(max(1, min(points, b - a)))
        self.edges = a + ((b - a) * np.arange(self.points + 1, dtype=np.int64)) // self.points
        self.total = np.zeros(self.points, np.float64)
        self.peak = np.zeros(self.points, np.float32)

    def add(self, start: int, x: np.ndarray) -> None:
        if x.size == 0:
            return
        mag = np.abs(x)
        stop = start + x.size
        i0 = int(np.searchsorted(self.edges, start, side="right")) - 1
        i1 = int(np.searchsorted(self.edges, stop - 1, side="right")) - 1
        i0, i1 = max(i0, 0), min(i1, self.points - 1)
        local = np.maximum(self.edges[i0:i1 + 1] - start, 0)
        self.total[i0:i1 + 1] += np.add.reduceat(mag, local, dtype=np.float64)
        self.peak[i0:i1 + 1] = np.maximum(self.peak[i0:i1 + 1], np.maximum.reduceat(mag, local))

    def result(self, fs: float) -> Envelope:
        width = np.diff(self.edges)
        mid = (self.edges[:-1] + self.edges[1:]) / 2.0
        return Envelope(t=mid / fs, mean=(self.total / np.maximum(width, 1)).astype(np.float32),
                        peak=self.peak.copy())
