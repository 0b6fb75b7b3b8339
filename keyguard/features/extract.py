"""RF-fingerprint features of one burst from its channelised IQ.

:func:`burst_features` takes the burst's IQ (complex, the carrier near 0 Hz, ideally with some
noise before and after the frame) and returns a :class:`~keyguard.features.vector.FeatureVector`.
Everything is measured by the same code for every burst, so two bursts of one transmitter agree
even where a measurement has a fixed bias (the channel filter widens edges for everybody alike).
Cost: a handful of vector passes over the burst's samples plus one ≤ 1024-point averaged
periodogram.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from keyguard.features.echo import edge_echo
from keyguard.features.envelope import edge_times, interior_mask, moments, pulse_beats, segment, \
    span_labels
from keyguard.features.frequency import FrequencyFeatures, fsk_frequency, ook_frequency
from keyguard.features.quantiles import median, percentile
from keyguard.features.spectral import gap_line, gap_tone_db, spectral_features
from keyguard.features.timing import run_widths_us, te_estimate
from keyguard.features.vector import CLIPPED_FRACTION, FEATURE_NAMES, FeatureVector, feature_index

#: nominal carrier assumed for the ppm feature when neither a profile nor the caller gives one
DEFAULT_NOMINAL_HZ = 433.92e6
#: pulses at the start of a frame taken as its preamble (KeeLoq sends 11–12)
PREAMBLE_PULSES = 12
#: features of a longer burst come from its first FEATURE_SPAN_S (s): a fob frame is shorter,
#: and a jammer's edges, keying and spectrum show in half a second; measuring all of a
#: several-second jammer costs seconds of CPU at once and delays every alert behind it
FEATURE_SPAN_S = 0.5
#: fewest pulses with a measurable steady part for ``beat_depth`` / ``beat_floor``
MIN_BEAT_PULSES = 4
#: ``droop_db`` is fitted to the pulses whose on-level lies within this many dB of the median
#: pulse's (when they are at least half of them)
DROOP_LEVEL_DB = 3.0
_DURATION = int(feature_index(["duration_ms"])[0])
_CHANNEL_BW = int(feature_index(["channel_bw_hz"])[0])


def burst_features(iq: np.ndarray, sample_rate: float, *, modulation: str | None = None,
                   channel_freq_hz: float | None = None, nominal_freq_hz: float | None = None,
                   te_us: float | None = None, noise_power: float | None = None,
                   snr_db: float | None = None, rssi_db: float | None = None,
                   receiver_dc_hz: float | None = None) -> FeatureVector:
    """Features of one burst.

    iq: complex baseband of the burst, carrier near 0 Hz (full scale ±1). sample_rate: Hz.
    modulation: "OOK" or "FSK" when known (else decided from the envelope). channel_freq_hz:
    the frequency the IQ's 0 Hz stands for (absolute Hz when the capture's centre is known, or
    offset from the centre); the measured residual is added to it for the CFO.
    nominal_freq_hz: the protocol's nominal carrier (Hz) the CFO is measured against.
    te_us: the profile's short width (µs) for ``te_error``. noise_power: mean |x|² of the noise
    outside the burst in this IQ's band, when the front end measured it. snr_db / rssi_db: the
    front end's levels (dB), used as given so the features agree with the packets.
    receiver_dc_hz: where the receiver's centre (its DC offset's line) sits in the IQ's
    baseband (Hz), when known.
    """
    x = np.ascontiguousarray(iq, dtype=np.complex64)
    fs = float(sample_rate)
    if fs <= 0:
        raise ValueError("sample_rate must be positive")
    out = dict.fromkeys(FEATURE_NAMES, math.nan)
    if x.size < 8:
        return _vector(out)
    iq2 = x.view(np.float32).astype(np.float64)  # I, Q interleaved
    iq2 *= iq2
    p_inst = iq2[0::2] + iq2[1::2]
    env = np.sqrt(p_inst)
    seg = segment(env, fs)
    n = x.size
    if seg.pulses == 0:
        return _vector(out)
    lo, hi = int(seg.rising[0]), int(seg.falling[-1])
    out["duration_ms"] = (hi - lo) / fs * 1e3
    rail = np.abs(x.view(np.float32)) >= 0.99  # I, Q interleaved
    out["clip_fraction"] = np.count_nonzero(rail[0::2] | rail[1::2]) / n

    # noise outside the frame (the IQ's margins), else the front end's figure
    margin = max(2, int(round(fs * 20e-6)))
    before, after = p_inst[:max(0, lo - margin)], p_inst[min(n, hi + margin):]
    outside = np.concatenate([before, after])
    p_margins = float(outside.sum() / outside.size) if outside.size >= 16 else None
    p_out = p_margins if p_margins is not None else noise_power
    _margin_levels(out, before, after, p_margins, noise_power)

    on_mask = interior_mask(n, seg.rising, seg.falling, trim=0.15)
    p_on_samples = p_inst[on_mask]
    p_on = float(p_on_samples.sum() / p_on_samples.size) if p_on_samples.size else math.nan
    pulse_of = span_labels(n, seg.rising, seg.falling)
    frame_on = pulse_of >= 0
    out["on_fraction"] = np.count_nonzero(frame_on[lo:hi]) / (hi - lo) if hi > lo else math.nan
    out["rssi_db"] = rssi_db if rssi_db is not None else _db(p_on)
    out["snr_db"] = snr_db if snr_db is not None else (
        _db(p_on / p_out) if p_out and p_out > 0 and math.isfinite(p_on) else math.nan)
    if p_on_samples.size:
        pk = float(p_on_samples.max())
        out["papr_db"] = _db(pk / p_on)

    is_fsk = (modulation == "FSK") if modulation is not None else not seg.has_gaps
    rise50 = fall50 = None
    if is_fsk:
        ff, fsm, th = fsk_frequency(x, lo, hi, fs)
        if fsm.size:
            rise50, fall50 = _fsk_edges(fsm, th)
        out["fsk_deviation_hz"] = ff.deviation
    else:
        clipped = out["clip_fraction"] > CLIPPED_FRACTION and receiver_dc_hz is not None
        ff = ook_frequency(x, seg.rising, seg.falling, fs,
                           clip_dc_hz=receiver_dc_hz if clipped else None)
    _frequency_out(out, ff, channel_freq_hz, nominal_freq_hz)

    # envelope shape: edges, overshoot, droop, level variation, extinction
    r50, f50, r_us, f_us = edge_times(env, seg, fs)
    out["rise_time_us"] = _nanmedian(r_us)
    out["fall_time_us"] = _nanmedian(f_us)
    levels = np.maximum(seg.on_levels, 1e-12)
    q = np.maximum((seg.falling - seg.rising) // 4, 1)
    bounds = np.stack([seg.rising, np.minimum(seg.rising + q, n)], axis=1).ravel()
    if bounds[-1] >= n:  # reduceat needs valid start indices; the last span runs to the end
        bounds = bounds[:-1]
    peaks = np.maximum.reduceat(env, bounds)[0::2][: seg.pulses]
    out["overshoot"] = median(peaks / levels[: peaks.size]) - 1.0
    if seg.pulses >= 3:
        centres = 0.5 * (seg.rising + seg.falling) / fs
        span = centres[-1] - centres[0]
        ldb = 20 * np.log10(levels)
        # the slope of the pulses within DROOP_LEVEL_DB of the median level: a second
        # transmitter keyed over part of the burst lifts a run of pulses far above the rest
        # (fresh benign soak seed 58046: a tyre sensor 8 dB over 18 ms of a doorbell's 0.76 s
        # ring read as 3.8 dB of negative droop); excluding by level keeps a linear droop's
        # slope, since the pulses left out are at both ends alike
        near = np.abs(ldb - median(ldb)) <= DROOP_LEVEL_DB
        if np.count_nonzero(near) >= max(3, seg.pulses // 2):
            centres, ldb = centres[near], ldb[near]
        c = centres - centres.mean()  # least-squares slope (np.polyfit's costs 10× more)
        den = float(np.dot(c, c))
        if den > 0:
            out["droop_db"] = float(-np.dot(c, ldb - ldb.mean()) / den * span)
    if p_on_samples.size:
        sel = on_mask & frame_on
        rel = env[sel] / levels[pulse_of[sel]]
        out["on_level_cv"] = float(np.std(rel) / max(float(np.mean(rel)), 1e-12))
    if not is_fsk:
        beats = pulse_beats(env, seg, fs)
        if beats.size >= MIN_BEAT_PULSES:
            out["beat_depth"] = percentile(beats, 90)
            out["beat_floor"] = percentile(beats, 25)

    gaps_mask = np.zeros(n, bool)
    if seg.pulses >= 2 and not is_fsk:
        gaps_mask = interior_mask(n, seg.falling[:-1], seg.rising[1:], trim=0.25)
        if gaps_mask.sum() >= 4:
            p_gap_samples = p_inst[gaps_mask]
            p_gap = float(p_gap_samples.sum() / p_gap_samples.size)
            out["extinction_db"] = _db(p_on / p_gap) if p_gap > 0 else math.nan
            if p_out and p_out > 0:
                out["noise_excess_db"] = _db(p_gap / p_out)
            out["gap_tone_db"] = gap_tone_db(x[gaps_mask], fs)
            if math.isfinite(ff.carrier):
                out["gap_line_db"], out["gap_line_hz"], out["gap_line_sharpness"] = gap_line(
                    x[lo:hi], gaps_mask[lo:hi], fs, ff.carrier, receiver_dc_hz)

    # timing
    if is_fsk and rise50 is not None:
        widths = run_widths_us(rise50, fall50, fs)
    else:
        ok = np.isfinite(r50) & np.isfinite(f50)
        widths = run_widths_us(np.where(ok, r50, np.nan), np.where(ok, f50, np.nan), fs)
    te, jit = te_estimate(widths)
    out["te_us"], out["timing_jitter_us"] = te, jit
    if te_us and math.isfinite(te):
        # the estimate may lock on a multiple of a profile's Te (e.g. Manchester chips)
        k = max(1.0, round(te / te_us))
        out["te_error"] = te / (k * te_us) - 1.0

    # spectrum of the frame
    carrier = ff.carrier if math.isfinite(ff.carrier) else 0.0
    sp = spectral_features(x[lo:hi], fs, carrier, p_out if p_out and p_out > 0 else None)
    out["occupied_bw_hz"] = sp.occupied_bw_hz
    out["spectral_flatness"] = sp.flatness
    out["spur_db"] = sp.spur_db
    out["sideband_asymmetry_db"] = sp.asymmetry_db

    # preamble envelope statistics (Wang et al. 2022), on-level = 1
    k = min(seg.pulses, PREAMBLE_PULSES)
    if not is_fsk and k >= 2:
        pre_end = int(seg.rising[k]) if seg.pulses > k else int(seg.falling[k - 1])
        pre = env[lo:pre_end] / max(seg.on_level, 1e-12)
        (out["preamble_mean"], out["preamble_std"], out["preamble_skew"],
         out["preamble_kurtosis"]) = moments(pre)
    elif is_fsk:
        pre_end = min(hi, lo + int(round(fs * 2e-3)))
        pre = env[lo:pre_end] / max(seg.on_level, 1e-12)
        (out["preamble_mean"], out["preamble_std"], out["preamble_skew"],
         out["preamble_kurtosis"]) = moments(pre)

    rising_idx = seg.rising[seg.rising > 0]
    out["echo_ratio"], out["echo_lag_us"] = edge_echo(env, rising_idx[:64], fs)
    return _vector(out)


def _margin_levels(out: dict, before: np.ndarray, after: np.ndarray, p_margins: float | None,
                   noise_power: float | None) -> None:
    """``floor_rise_db`` and ``margin_balance_db`` from the burst's noise margins (|x|² before
    and after the frame; ``p_margins`` their mean over both, None for fewer than 16)."""
    if p_margins is not None and noise_power and noise_power > 0:
        # the front end's floor is a minimum over seconds: noise switched on around this
        # frame (a relay's amplifier) shows as margins above it, a quiet channel does not
        out["floor_rise_db"] = _db(p_margins / noise_power)
    if before.size >= 8 and after.size >= 8:
        out["margin_balance_db"] = _db(float(before.sum() / before.size)
                                       / max(float(after.sum() / after.size), 1e-30))


def _fsk_edges(fsm: np.ndarray, th: float) -> tuple[np.ndarray, np.ndarray]:
    """Sub-sample mark starts/ends (samples) from the smoothed frequency."""
    m = fsm > th
    d = np.diff(m.astype(np.int8))
    up = np.flatnonzero(d == 1)
    dn = np.flatnonzero(d == -1)

    def cross(i):
        a, b = fsm[i], fsm[i + 1]
        return i + np.clip((th - a) / np.where(b != a, b - a, 1.0), 0.0, 1.0)

    r, f = cross(up), cross(dn)
    if f.size and r.size and f[0] < r[0]:
        f = f[1:]
    m_ = min(r.size, f.size)
    return r[:m_], f[:m_]


def _frequency_out(out: dict, ff: FrequencyFeatures, channel_freq_hz: float | None,
                   nominal_freq_hz: float | None) -> None:
    out["chirp_hz"] = ff.chirp
    out["freq_jitter_hz"] = ff.jitter
    out["pulse_phase_z"] = ff.phase_z
    if not math.isfinite(ff.carrier):
        return
    carrier = ff.carrier + (channel_freq_hz or 0.0)
    # against the nominal carrier when the caller placed the IQ in absolute frequency; otherwise
    # the offset from the capture centre is the best there is (still comparable per receiver)
    cfo = carrier - nominal_freq_hz if nominal_freq_hz is not None else carrier
    out["cfo_hz"] = cfo
    out["cfo_ppm"] = cfo / (nominal_freq_hz or DEFAULT_NOMINAL_HZ) * 1e6


def features_from_burst(burst: Any, profile: Any = None) -> FeatureVector:
    """Features of a ``keyguard.dsp.bursts.Burst``: its channelised IQ (centred at
    ``channel_offset_hz`` from the capture centre, ≈ 1 ms of noise either side), the channel's
    noise level, the burst's RSSI/SNR, and from ``profile`` (optional) the nominal carrier,
    modulation and short width."""
    iq = burst.iq
    fs = float(burst.iq_rate)
    span = int(FEATURE_SPAN_S * fs)
    full_ms = None
    if iq.shape[0] > span:
        full_s = getattr(burst, "duration_s", None)
        full_ms = (full_s if full_s is not None else iq.shape[0] / fs) * 1e3
        iq = iq[:span]
    centre = getattr(burst, "center_freq", None)
    chan = float(burst.channel_offset_hz) + (centre or 0.0)
    nominal = te = mod = None
    if profile is not None:
        freqs = tuple(getattr(profile, "frequencies_hz", ()) or ())
        if freqs and centre is not None:
            # the profile's frequency nearest the burst (fobs exist at 315/433.92/868 MHz)
            nominal = float(min(freqs, key=lambda f: abs(f - chan)))
        timing = getattr(profile, "timing", None)
        te = getattr(timing, "te_short_us", None) if timing is not None else None
        mod = getattr(profile, "modulation", None)
    if nominal is None and centre is not None:
        nominal = DEFAULT_NOMINAL_HZ if abs(chan - DEFAULT_NOMINAL_HZ) < 1e6 else None
    if mod is None and getattr(burst, "fsk_lobes_hz", None) is not None:
        mod = "FSK"
    noise_db = getattr(burst, "channel_noise_db", None)
    noise = None if noise_db is None else 10.0 ** (float(noise_db) / 10.0)
    vec = burst_features(iq, fs, modulation=mod, channel_freq_hz=chan, nominal_freq_hz=nominal,
                         te_us=te, noise_power=noise, snr_db=getattr(burst, "snr_db", None),
                         rssi_db=getattr(burst, "rssi_db", None),
                         receiver_dc_hz=-float(burst.channel_offset_hz))
    values = vec.values.copy()
    if full_ms is not None:  # the burst's duration, not the measured span's
        values[_DURATION] = full_ms
    bw = getattr(burst, "channel_bw_hz", None)
    values[_CHANNEL_BW] = float(bw) if bw is not None and bw > 0 else math.nan
    return FeatureVector(values)


def _db(x: float) -> float:
    return 10.0 * math.log10(x) if x and x > 0 and math.isfinite(x) else math.nan


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return median(x)


def _vector(out: dict) -> FeatureVector:
    return FeatureVector(np.array([out[n] if out[n] is not None else math.nan
                                   for n in FEATURE_NAMES], dtype=np.float64))
