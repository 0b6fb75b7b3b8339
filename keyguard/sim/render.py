"""Pulse train → clean complex baseband IQ.

The renderer is the bottom of the simulator: it turns one :class:`~keyguard.pulse_train.PulseTrain`
into complex64 samples at a given sample rate, with no impairments other than the ones asked for
(carrier offset, amplitude, phase, edge rise time). Device fingerprints, channels and receivers are
layered on top by the other ``keyguard.sim`` modules.

Timing is sample-accurate without drift: every edge is placed at its exact (fractional) time from
the cumulative sum of the durations, and a sample that straddles an edge takes the fraction of its
interval that is "on" (box-integrated sampling). Edges are never rounded to whole samples, so a
66-bit KeeLoq frame at 250 ksps ends exactly where the durations say.

OOK: carrier on during level 1, off during level 0 (optional raised-cosine edges).
FSK: continuous-phase 2-FSK, carrier on for the whole train, +deviation for level 1 (mark),
−deviation for level 0 (space); the instantaneous frequency is box-integrated per sample, so the
phase at every sample boundary is exact.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import oaconvolve

from keyguard.pulse_train import PulseTrain

#: FSK deviation used when neither the caller nor the pulse train gives one (Hz).
DEFAULT_FSK_DEVIATION_HZ = 20_000.0


def render_pulse_train(pt: PulseTrain, sample_rate: float, *, freq_offset_hz: float = 0.0,
                       amplitude: float = 1.0, fsk_deviation_hz: float | None = None,
                       phase: float = 0.0, rise_time_us: float = 0.0, lead_s: float = 0.0,
                       tail_s: float = 0.0) -> np.ndarray:
    """Render one pulse train as clean complex64 baseband.

    pt: the burst; ``pt.t`` is ignored (sample 0 is ``lead_s`` seconds before the first run).
    sample_rate: Hz. freq_offset_hz: carrier offset from the centre (Hz); the carrier phase is
    ``2π·f·n/fs + phase`` at sample n, so it is continuous across the whole returned array.
    amplitude: carrier amplitude when on (full scale 1.0). fsk_deviation_hz: FSK half-separation
    (Hz), default ``pt.fsk_deviation_hz`` or 20 kHz. rise_time_us: 0→100 % duration of raised-cosine
    edges (µs), centred on the nominal edge time so the 50 % points keep the exact durations.
    lead_s / tail_s: silence before / after the train (s); may be fractional samples, which is how
    callers place a burst at a sub-sample time.

    Returns ``ceil((lead_s + duration + tail_s)·fs)`` samples, extended by up to half a rise time
    when the tail is shorter than that, so the last edge is never cut.
    """
    env, freq = burst_envelope(pt, sample_rate, rise_time_us=rise_time_us, lead_s=lead_s,
                               tail_s=tail_s, fsk_deviation_hz=fsk_deviation_hz)
    n = env.size
    # carrier phase per sample: 2π f n / fs, plus the FSK phase accumulated from the frequency
    # trajectory (box-integrated, so the exclusive sum is the exact phase at each sample's start).
    ph = (2.0 * math.pi * freq_offset_hz / sample_rate) * np.arange(n, dtype=np.float64) + phase
    if freq is not None:
        acc = np.cumsum(freq)
        ph[1:] += acc[:-1] * (2.0 * math.pi / sample_rate)
    return (amplitude * env * np.exp(1j * ph)).astype(np.complex64)


def burst_envelope(pt: PulseTrain, sample_rate: float, *, rise_time_us: float = 0.0,
                   lead_s: float = 0.0, tail_s: float = 0.0,
                   fsk_deviation_hz: float | None = None,
                   fall_time_us: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The real amplitude envelope (0..1, float64) and, for FSK, the per-sample frequency (Hz).

    This is :func:`render_pulse_train` before the carrier is applied; the fingerprint layer uses it
    to add extinction leakage, droop and phase noise without re-deriving the timing. For OOK the
    second value is None. ``fall_time_us`` (default: the rise time) shapes falling edges apart
    from rising ones, as a keyed oscillator starts slower than it stops.
    """
    if sample_rate <= 0:
        raise ValueError("sample_rate must be positive")
    if lead_s < 0 or tail_s < 0 or rise_time_us < 0:
        raise ValueError("lead_s, tail_s and rise_time_us must be non-negative")
    fs = float(sample_rate)
    d_us = pt.durations_us
    if fall_time_us is None:
        fall_time_us = rise_time_us
    if fall_time_us < 0:
        raise ValueError("fall_time_us must be non-negative")
    rise_n = rise_time_us * 1e-6 * fs
    fall_n = fall_time_us * 1e-6 * fs
    total_s = lead_s + pt.duration_us * 1e-6 + tail_s
    edge_s = max(rise_time_us, fall_time_us) * 0.5e-6
    n = int(math.ceil(max(total_s, lead_s + pt.duration_us * 1e-6 + edge_s) * fs - 1e-9))
    n = max(n, 0)
    if n == 0 or d_us.size == 0:
        return np.zeros(n), (np.zeros(n) if pt.modulation == "FSK" else None)

    # edge k at sample position p_k (sample i covers [i, i+1) in units of samples, so a run that
    # starts exactly at sample i fills sample i completely).
    edges = lead_s * fs + np.concatenate([[0.0], np.cumsum(d_us)]) * (1e-6 * fs)
    lv = pt.levels.astype(np.float64)
    if pt.modulation == "FSK":
        dev = fsk_deviation_hz if fsk_deviation_hz is not None else (
            pt.fsk_deviation_hz if pt.fsk_deviation_hz is not None else DEFAULT_FSK_DEVIATION_HZ)
        # carrier on for the whole train; the frequency switches between ±dev
        on = _box_sampled_steps(np.array([edges[0], edges[-1]]), np.array([1.0, -1.0]), n)
        mark = _box_sampled_steps(edges, _steps(lv), n)
        freq = dev * (2.0 * mark - on)  # +dev where mark, −dev where space, 0 outside the burst
        if rise_n > 1.0:
            k = _raised_cosine_kernel(rise_n)
            on = _smooth(on, k)
            freq = _smooth(freq, k)
        return np.clip(on, 0.0, 1.0), freq
    steps = _steps(lv)
    if rise_n <= 1.0 and fall_n <= 1.0:
        env = _box_sampled_steps(edges, steps, n)
    elif rise_n == fall_n:
        env = _smooth(_box_sampled_steps(edges, steps, n), _raised_cosine_kernel(rise_n))
    else:
        # rising and falling steps shaped by their own kernels; the two partial sums are
        # monotone staircases whose sum is the envelope
        up = _box_sampled_steps(edges, np.where(steps > 0, steps, 0.0), n)
        down = _box_sampled_steps(edges, np.where(steps < 0, steps, 0.0), n)
        if rise_n > 1.0:
            up = _smooth(up, _raised_cosine_kernel(rise_n))
        if fall_n > 1.0:
            down = _smooth(down, _raised_cosine_kernel(fall_n))
        env = up + down
        env[np.abs(env) < 1e-9] = 0.0
    return np.clip(env, 0.0, 1.0), None


def add_awgn(x: np.ndarray, snr_db: float, rng: np.random.Generator,
             signal_power: float | None = None) -> np.ndarray:
    """Add complex white Gaussian noise so that the burst has ``snr_db`` (dB).

    SNR = mean power during carrier-on over the noise power of the whole sampled band. The noise
    is complex circular with total power ``signal_power / 10^(snr_db/10)``. ``signal_power``
    defaults to the mean of |x|² over the samples with |x| above half the peak (the carrier-on
    samples of a clean burst). Returns complex64.
    """
    x = np.asarray(x)
    if signal_power is None:
        mag2 = (x.real.astype(np.float64) ** 2 + x.imag.astype(np.float64) ** 2)
        if mag2.size == 0 or mag2.max() <= 0:
            raise ValueError("signal has no carrier-on samples; pass signal_power")
        on = mag2 > 0.25 * mag2.max()  # |x| > half max
        signal_power = float(mag2[on].mean())
    noise_power = float(signal_power) / 10.0 ** (snr_db / 10.0)
    noise = complex_noise(x.shape, noise_power, rng)
    return (x + noise).astype(np.complex64)


def complex_noise(shape: int | tuple, power: float, rng: np.random.Generator) -> np.ndarray:
    """Circular complex Gaussian noise of total power ``power`` (each of I and Q has power/2)."""
    s = math.sqrt(power / 2.0)
    out = rng.standard_normal(shape, dtype=np.float32) * np.float32(s)
    out = out + 1j * (rng.standard_normal(shape, dtype=np.float32) * np.float32(s))
    return out.astype(np.complex64)


# ---------------------------------------------------------------------------------------------
def _steps(levels: np.ndarray) -> np.ndarray:
    """Signed step at each run start (+1 rising, −1 falling) plus the final step back to 0."""
    prev = np.concatenate([[0.0], levels])
    nxt = np.concatenate([levels, [0.0]])
    return nxt - prev


def _box_sampled_steps(positions: np.ndarray, steps: np.ndarray, n: int) -> np.ndarray:
    """Sum of unit steps at fractional sample positions, each sample averaged over [i, i+1).

    A step at p contributes (i+1−p) to the sample i = floor(p) that it straddles and 1 to every
    later sample; built as a difference array and one cumulative sum (vectorised, no drift: each
    edge's position comes straight from the cumulative durations, never from the previous edge's
    rounded sample).
    """
    nz = steps != 0
    p, s = positions[nz], steps[nz]
    k = np.floor(p).astype(np.int64)
    frac = (k + 1.0) - p  # the part of sample k after the edge
    diff = np.zeros(n + 2)
    kk = np.clip(k, -1, n)  # edges before 0 act from sample 0, after the end never show
    np.add.at(diff, kk + 1, s * frac)
    np.add.at(diff, np.clip(kk + 2, 0, n + 1), s * (1.0 - frac))
    out = np.cumsum(diff[1:n + 1])
    # cumulative sums of ±1 and fractions leave ~1e-15 residue; snap it so off samples are 0
    out[np.abs(out) < 1e-9] = 0.0
    return out


def _raised_cosine_kernel(rise_n: float) -> np.ndarray:
    """Half-sine kernel (unit sum): a step convolved with it rises as 0.5(1−cos(πt/T)) over T."""
    m = max(int(math.ceil(rise_n)), 1)
    t = (np.arange(m) + 0.5) / rise_n
    k = np.where(t < 1.0, np.sin(np.pi * np.clip(t, 0.0, 1.0)), 0.0)
    return k / k.sum()


def _smooth(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve with a kernel centred on each sample (keeps 50 % points in place), same length."""
    if kernel.size <= 1:
        return x
    full = oaconvolve(x, kernel)
    lo = (kernel.size - 1) // 2
    out = full[lo:lo + x.size]
    if kernel.size % 2 == 0:
        # even-length kernel: centre sits half a sample late; average neighbours to re-centre
        nxt = full[lo + 1:lo + 1 + x.size]
        out = 0.5 * (out + nxt)
    return out
