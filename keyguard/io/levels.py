"""Level statistics of a capture, computed in one streaming pass over its blocks.

- noise floor (dBFS): the 10th percentile of the mean power in short windows (1 ms): most
  windows of a key-fob capture hold no transmission, so a low percentile is the receiver noise;
- peak (dBFS): the largest instantaneous power;
- clipping fraction: the fraction of samples whose I or Q sits at the integer format's extreme
  (cu8/cs8/cs16). An RTL-SDR with too much gain clips; bursts then look wider and stronger than
  they were and decoders fail, so a fraction above :data:`CLIP_WARN_FRACTION` is called out;
- DC offset: the mean sample (RTL-SDR receivers show a DC spike at the centre).

0 dBFS is a full-scale sine (|x| = 1). Memory is one block plus a fixed histogram.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from dataclasses import dataclass

import numpy as np

from keyguard.io.capture import Capture

#: Clipping above this fraction of samples is worth a warning (0.1 %).
CLIP_WARN_FRACTION = 1e-3
NOISE_PERCENTILE = 10.0
WINDOW_S = 1e-3

_DB_LO, _DB_HI, _DB_STEP = -200.0, 20.0, 0.05
_NBINS = int(round((_DB_HI - _DB_LO) / _DB_STEP)) + 1


@dataclass(frozen=True)
class LevelStats:
    """Levels of a capture (dBFS); clipping_fraction is None for float formats."""

    samples: int
    noise_floor_dbfs: float | None
    peak_dbfs: float | None
    mean_power_dbfs: float | None
    clipping_fraction: float | None
    dc_offset: complex
    window_samples: int

    @property
    def dc_offset_dbfs(self) -> float | None:
        p = abs(self.dc_offset) ** 2
        return 10 * math.log10(p) if p > 0 else None

    @property
    def clipped(self) -> bool:
        """True when enough samples clip to distort bursts (> 0.1 %)."""
        return self.clipping_fraction is not None and self.clipping_fraction > CLIP_WARN_FRACTION

    def as_dict(self) -> dict:
        """JSON-ready fields for the ``capture`` record."""
        return {
            "noise_floor_dbfs": _r(self.noise_floor_dbfs),
            "peak_dbfs": _r(self.peak_dbfs),
            "mean_power_dbfs": _r(self.mean_power_dbfs),
            "clipping_fraction": None if self.clipping_fraction is None
            else float(f"{self.clipping_fraction:.6g}"),
            "dc_offset_dbfs": _r(self.dc_offset_dbfs),
        }


def _r(v: float | None) -> float | None:
    return None if v is None else round(float(v), 2)


def clip_levels(capture: Capture) -> tuple[float, float] | None:
    """The converted values at which this capture's integer format clips, or None."""
    fmt = getattr(capture.reader, "sample_format", None)
    return None if fmt is None else fmt.clip_levels()


def measure_levels(capture: Capture, *, window_s: float = WINDOW_S,
                   max_samples: int | None = None) -> LevelStats:
    """Stream ``capture`` (up to ``max_samples``) and return its :class:`LevelStats`."""
    win = max(8, int(round(capture.sample_rate * window_s)))
    block = win * max(1, (1 << 18) // win)  # whole windows per block
    stop = capture.num_samples if max_samples is None else min(capture.num_samples, max_samples)
    clip = clip_levels(capture)
    hist = np.zeros(_NBINS, dtype=np.int64)
    n = 0
    n_clip = 0
    peak = 0.0
    energy = 0.0
    dc = 0j
    for b in capture.blocks(block_size=block, stop=stop):
        x = b.samples
        v = x.view(np.float32)  # I0 Q0 I1 Q1 ...: elementwise work on floats is fastest
        sq = np.square(v)
        p = sq[0::2] + sq[1::2]
        n += x.size
        energy += float(p.sum(dtype=np.float64))
        peak = max(peak, float(p.max()))
        dc += complex(x.sum())  # pairwise sum within the block, accumulated in double
        full = (p.size // win) * win
        wp = p[:full].reshape(-1, win).mean(axis=1) if full else p[:0]
        if full < p.size:
            wp = np.append(wp, p[full:].mean())  # last, shorter window
        if wp.size:
            db = 10 * np.log10(np.maximum(wp, 1e-30))
            idx = np.clip(np.rint((db - _DB_LO) / _DB_STEP), 0, _NBINS - 1).astype(np.int64)
            hist += np.bincount(idx, minlength=_NBINS)
        if clip is not None:
            m = v <= clip[0]
            m |= v >= clip[1]
            n_clip += int(np.count_nonzero(m[0::2] | m[1::2]))  # I or Q at an extreme
    if n == 0:
        return LevelStats(0, None, None, None, None if clip is None else 0.0, 0j, win)
    cum = np.cumsum(hist)
    k = int(np.searchsorted(cum, NOISE_PERCENTILE / 100 * cum[-1]))
    # The mean power of `win` samples of complex Gaussian noise is chi-square with 2·win degrees
    # of freedom (scaled); its 10th percentile sits below the mean. Undo that known bias so the
    # floor is the noise power itself (+0.36 dB for 250-sample windows).
    bias_db = 10 * math.log10(_chi2_quantile_over_dof(NOISE_PERCENTILE / 100, 2 * win))
    noise = _DB_LO + k * _DB_STEP - bias_db if k > 0 else _DB_LO
    return LevelStats(
        samples=n,
        noise_floor_dbfs=noise,
        peak_dbfs=10 * math.log10(peak) if peak > 0 else None,
        mean_power_dbfs=10 * math.log10(energy / n) if energy > 0 else None,
        clipping_fraction=None if clip is None else n_clip / n,
        dc_offset=dc / n,
        window_samples=win,
    )


def _chi2_quantile_over_dof(q: float, k: int) -> float:
    """χ²_k quantile q divided by k (Wilson–Hilferty; error < 1e-4 for k ≥ 16, which is all we use)."""
    a = 2.0 / (9.0 * k)
    return (1.0 - a + NormalDist().inv_cdf(q) * math.sqrt(a)) ** 3
