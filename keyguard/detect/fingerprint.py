"""Per-identity RF fingerprints and how far a new press is from them.

Every identity keeps the fingerprints of its presses judged genuine (and the owner's enrolled
ones, from the state file). A new press is compared feature by feature with a robust z-score:
distance from the reference median over the reference spread (1.4826 × MAD), the spread never
below a floor that covers measurement noise and natural drift (``FEATURE_FLOORS``).

Carrier offset needs calibration: an RTL-SDR tuner is off by tens of ppm, so a fob's CFO as seen
by two dongles differs by their tuner difference. References from the same receiver are used as
they are; references from another receiver are shifted by the median CFO difference of the
*other* identities both receivers heard; when no other identity links them, CFO is left out of
the comparison (and the evidence says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from keyguard.detect.config import FingerprintConfig
from keyguard.detect.observation import CaptureInfo
from keyguard.features.vector import CLIPPED_FRACTION, FEATURE_NAMES, FINGERPRINT_FEATURES, \
    OFF_CENTRE_FRACTION, SHAPE_FEATURES, FeatureVector, feature_index
from keyguard.state import State

#: Smallest spread (same units as the feature) a reference may have: measurement noise over the
#: 10–35 dB SNR range at 250 ksps plus drift between days (calibrated on simulated fobs).
#: ``te_us`` is relative (a fraction of the reference Te). cfo_ppm comes from the config.
FEATURE_FLOORS: dict[str, float] = {
    "te_us": 0.004,
    "rise_time_us": 2.5,
    "fall_time_us": 2.5,
    "droop_db": 0.35,
    "chirp_hz": 700.0,
    "fsk_deviation_hz": 0.03,  # relative, like te_us
}
_RELATIVE = {"te_us", "fsk_deviation_hz"}
_FP_IDX = feature_index(FINGERPRINT_FEATURES)
_CFO = FINGERPRINT_FEATURES.index("cfo_ppm")
_CLIP = FEATURE_NAMES.index("clip_fraction")
_BEAT_DEPTH = FEATURE_NAMES.index("beat_depth")
_BEAT_FLOOR = FEATURE_NAMES.index("beat_floor")
_CHANNEL_BW = FEATURE_NAMES.index("channel_bw_hz")
_SHAPE = {FINGERPRINT_FEATURES.index(n) for n in SHAPE_FEATURES}
_SHAPE_FULL = feature_index(SHAPE_FEATURES)


_TE = FINGERPRINT_FEATURES.index("te_us")
_TE_FULL = FEATURE_NAMES.index("te_us")
_JIT_FULL = FEATURE_NAMES.index("timing_jitter_us")
_TE_ERR_FULL = FEATURE_NAMES.index("te_error")
#: a burst whose base unit reads under a third of its profile's short width (``te_error``
#: below this) measured no clock: a frame that decoded with the profile was not sent that fast
TE_FAILED_ERROR = -2.0 / 3.0
#: the base units of one press's frames agree within this fraction (one transmitter's clock
#: drifts far less within a press); when they do not, the press measured no clock of its own
TE_PRESS_SPREAD = 0.15
#: ...or, for a protocol whose profile gives its width tolerance, off the window of short widths
#: its decoder accepts by more than this share of its short width: the frame decoded, so its
#: transmitter's clock was inside the window, and a base unit read outside it is two
#: transmissions interleaved in one burst (fresh benign soak seed 35097: a passer-by's KeeLoq
#: press 7.5 kHz away under the owner's read Te 195 and 201 µs for the key's 403, a "clone")
#: or runs merged in a swamped envelope (development clone seed 325: an owner 26 dB over full
#: scale read 1,218 µs, then 2,388 µs, for KeeLoq's 400, a "clone")
TE_FAILED_MARGIN = 0.1

_ON_FULL = FEATURE_NAMES.index("on_fraction")
_DEV_FULL = FEATURE_NAMES.index("fsk_deviation_hz")
_SNR_FULL = FEATURE_NAMES.index("snr_db")

#: odd-order products of a carrier at F (Hz from the receiver's centre) that a receiver
#: clipping I and Q apart makes: −3F at a third of its amplitude, +5F at a fifth
CLIP_PRODUCT_ORDERS = (-3, 5)
#: how close (Hz) a carrier must sit to such a product to be taken for it
CLIP_PRODUCT_TOLERANCE_HZ = 5e3


def te_window_us(te_us: float | None, tolerance_us: float | None) -> tuple[float, float] | None:
    """The base units (µs) a decoded burst of a protocol with short width ``te_us`` and width
    tolerance ``tolerance_us`` can measure: the decoder's window widened by
    ``TE_FAILED_MARGIN`` of the short width either side; None when either is not known."""
    if not te_us or tolerance_us is None:
        return None
    te, tol = float(te_us), float(tolerance_us)
    return te - tol - TE_FAILED_MARGIN * te, te + tol + TE_FAILED_MARGIN * te


def clipping_product_order(offset_hz: float, strong_offset_hz: float) -> int | None:
    """The order k of the clipping product k·F of a carrier at ``strong_offset_hz`` (F, Hz from
    the receiver's centre) that a carrier at ``offset_hz`` sits on, or None."""
    for k in CLIP_PRODUCT_ORDERS:
        if abs(offset_hz - k * strong_offset_hz) <= CLIP_PRODUCT_TOLERANCE_HZ:
            return k
    return None

#: an OOK frame keyed on for at least this fraction of its time is a fob beside the receiver
#: whose carrier leak filled the gaps between its pulses (a keyed line code is off a third to
#: two thirds of the time; decoded KeeLoq frames on the development sets read on at most 0.75):
#: the widths measured on that envelope are the leak's, not the clock's. The owner's answer 28
#: dB over full scale read on 0.86–0.88 and Te 362 µs against his 388 (14.8 spreads: fresh
#: benign soak seed 146015), while the demodulator's decisions on it read 386–390 µs. The relay
#: rule's undecoded bursts use the same test (``relay.unsegmented_burst``: the owner's answer
#: 36 dB over full scale read on 0.90 with Te 2,413 µs and P(relayed) 0.964, seed 126092)
LEAK_ON_FRACTION = 0.85
#: ...and one whose every pulse ripples (``beat_floor``, the 25th percentile over the pulses of
#: the envelope's ripple, at least this share of the level) is a receiver swamped by it: its
#: edges cross the slicer's levels wherever the ripple takes them (fresh benign soak seed
#: 62084: the owner's answer 33 dB over full scale read floor 0.37 and Te 387 µs for the key's
#: 396.5, 5.1 spreads; its presses from across the street, clipped on up to 38 %, read 0.015–0.056)
SWAMPED_BEAT_FLOOR = 0.2


#: the protocol of frames no profile explains: their identities are learned on the fly
#: (``keyguard.protocols.learn.label_unknown``) from which bits stay put across one capture
LEARNED_PROTOCOL = "unknown"


def learned_identity(press: Any) -> bool:
    """The press's identity was learned on the fly from unprofiled frames, not decoded.

    Such an identity is a guess from bit statistics, not a transmitter: every transmitter of one
    unprofiled kind whose frames share the bits that did not change (several weather sensors of
    one model, a sensor and a doorbell) falls under one "identity", so its presses come from
    several radios at several levels by design. A fingerprint or level mismatch between them is
    what such an identity looks like, not evidence of a clone, relay or RollJam: the press-based
    fingerprint rules leave these identities alone (attack frames that only decode as
    ``unknown`` are judged burst by burst, as undecoded)."""
    return press.protocol == LEARNED_PROTOCOL


#: a relative feature (base unit, FSK deviation) within this fraction of twice or half its
#: reference is an estimator that locked onto a double or half width (see ``compare``)
OCTAVE_TOLERANCE = 0.06


def _octave(ratio: float) -> bool:
    """``ratio`` (a measurement over its reference) is 2 or 1/2 within ``OCTAVE_TOLERANCE``."""
    return min(abs(ratio / 2.0 - 1.0), abs(2.0 * ratio - 1.0)) <= OCTAVE_TOLERANCE


def te_valid(full: np.ndarray) -> bool:
    """The base-unit estimate is a transmitter's clock, not noise: a plausible width (≥ 50 µs)
    whose runs fit its multiples (jitter under 10 % of it), measured on an OOK envelope whose
    gaps were not filled by a carrier leak (``LEAK_ON_FRACTION``) and whose pulses do not all
    ripple (``SWAMPED_BEAT_FLOOR``)."""
    te, jit = full[_TE_FULL], full[_JIT_FULL]
    ook = not np.isfinite(full[_DEV_FULL])
    swamped = ook and bool(full[_BEAT_FLOOR] >= SWAMPED_BEAT_FLOOR)  # NaN: not measured
    return bool(np.isfinite(te) and np.isfinite(jit) and te >= 50.0 and jit <= 0.1 * te
                and not leak_filled(full) and not swamped)


def leak_filled(full: np.ndarray) -> bool:
    """An OOK burst (full feature vector) keyed on for at least ``LEAK_ON_FRACTION`` of its
    time: a transmitter beside the receiver whose carrier leak filled the gaps between its
    pulses, so its envelope was not cut into them (2-FSK is on throughout: never)."""
    return bool(not np.isfinite(full[_DEV_FULL]) and full[_ON_FULL] >= LEAK_ON_FRACTION)


def clipped(full: np.ndarray) -> bool:
    """A full feature vector of a clipped burst (see ``CLIPPED_FRACTION``)."""
    c = full[_CLIP]
    return bool(np.isfinite(c) and c > CLIPPED_FRACTION)


def beating(full: np.ndarray, cfg: FingerprintConfig) -> bool:
    """A burst (full feature vector) whose envelope beats in some pulses and stays flat in the
    others: a second transmitter keyed over it on another carrier (``collision_beat_*``)."""
    depth, floor, clip = full[_BEAT_DEPTH], full[_BEAT_FLOOR], full[_CLIP]
    return bool(np.isfinite(depth) and np.isfinite(floor) and np.isfinite(clip)
                and depth >= cfg.collision_beat_depth
                and depth >= cfg.collision_beat_contrast * floor
                and clip <= cfg.collision_beat_max_clip)


def receiver_key(receiver: str | None, capture: str | None) -> str:
    """Captures of one named receiver share a tuner error; an unnamed capture is its own."""
    return f"rx:{receiver}" if receiver else f"capture:{capture}"


@dataclass
class RefEntry:
    vector: np.ndarray   # fingerprint features (FINGERPRINT_FEATURES order)
    full: np.ndarray     # every feature (FEATURE_NAMES order): levels for the relay detector
    receiver: str
    source: str          # "seen" or "enrolled"
    capture: str | None
    t: float | None
    freq_hz: float | None = None  # the press's carrier (Hz) when heard in this run


@dataclass
class Comparison:
    """How a press compares with its identity's reference.

    z: feature → robust z-score (NaN features left out). score: RMS of the z-scores; max_z: the
    largest; mismatch: the decision. cfo_calibration: how the CFO references were made
    comparable ("same-receiver", "via-other-identities", "excluded").
    """

    z: dict
    score: float
    max_z: float
    mismatch: bool
    references: int
    enrolled: int
    cfo_calibration: str
    cfo_shift_ppm: float | None = None
    values: dict = field(default_factory=dict)
    model_score: float | None = None
    clipped: bool = False

    def evidence(self) -> dict:
        return {"score": self.score, "max_z": self.max_z, "mismatch": self.mismatch,
                "z": self.z, "references": self.references, "enrolled_references": self.enrolled,
                "cfo_calibration": self.cfo_calibration, "cfo_shift_ppm": self.cfo_shift_ppm,
                "model_score": self.model_score, "clipped": self.clipped,
                "features": self.values}


def press_fingerprint(press: Any) -> np.ndarray | None:
    """A press's full feature vector (:func:`press_vector` of the bursts its features came
    from); None without features. Computed once per press."""
    if "_vector" not in press.notes:
        press.notes["_vector"] = press_vector(press.feature_bursts,
                                              getattr(press, "te_window_us", None))
    return press.notes["_vector"]


def off_centre(burst: Any) -> bool:
    """The burst's carrier sat off its channel filter's centre (``OFF_CENTRE_FRACTION``): its
    edges and turn-on went through the filter's skirt."""
    off = getattr(burst, "channel_offset_hz", None)
    f = getattr(burst, "features", None)
    if off is None or f is None:
        return False
    bw = f["channel_bw_hz"]
    return bool(math.isfinite(bw) and bw > 0 and abs(off) > OFF_CENTRE_FRACTION * bw)


def press_vector(bursts: list, te_window: tuple[float, float] | None = None
                 ) -> np.ndarray | None:
    """The median over one press's bursts (BurstInfo with features) of each feature (NaN where
    no burst measured it). When most were measured off their channel's centre, the
    envelope-shape features are left out (NaN): they describe the channel filter's skirt, not
    the transmitter. A burst whose base unit reads under a third of its profile's
    (``TE_FAILED_ERROR``) or outside ``te_window`` (µs, :func:`te_window_us` of its protocol)
    is a failed measurement and is not part of the median: two frames merged with a
    neighbour's short burst between them read Te 24 µs for a KeeLoq key's 407, and the median
    with the press's clean frame, 215 µs, made the owner's press a clone (fresh benign soak
    seed 26013). When the frames' base units still disagree by more than
    ``TE_PRESS_SPREAD``, the press measured no clock: with two frames the median is their
    mean (fresh benign soak seed 218083: a passer-by 3 kHz off and 11 dB under the owner
    started in its second frame, which read Te 222 µs against the first's 393; the press read
    307, a clone)."""
    vecs = [_without_te(b.features) if _te_failed(b.features, te_window) else b.features
            for b in bursts]
    tes = [te for v in vecs if math.isfinite(te := float(v.values[_TE_FULL]))]
    if tes and max(tes) > (1.0 + TE_PRESS_SPREAD) * min(tes):
        vecs = [_without_te(v) for v in vecs]
    out = median_vector(vecs)
    if out is not None and 2 * sum(off_centre(b) for b in bursts) > len(bursts):
        out[_SHAPE_FULL] = np.nan
    return out


def _te_failed(v: FeatureVector, window: tuple[float, float] | None) -> bool:
    """The burst's base unit is no clock: under a third of its profile's, or off ``window``."""
    if v.values[_TE_ERR_FULL] < TE_FAILED_ERROR:
        return True
    te = v.values[_TE_FULL]
    return window is not None and not window[0] <= te <= window[1]


def _without_te(v: FeatureVector) -> FeatureVector:
    """``v`` with its base unit (and the jitter around it) not measured."""
    vals = v.values.copy()
    vals[[_TE_FULL, _JIT_FULL, _TE_ERR_FULL]] = np.nan
    return FeatureVector(vals)


def median_vector(vectors: list[FeatureVector]) -> np.ndarray | None:
    """Median of each feature over several bursts (NaN where none measured it)."""
    if not vectors:
        return None
    m = np.vstack([v.values for v in vectors])
    with np.errstate(all="ignore"):
        out = np.full(m.shape[1], np.nan)
        ok = np.isfinite(m).any(axis=0)
        out[ok] = np.nanmedian(m[:, ok], axis=0)
    return out


class FingerprintMemory:
    """Reference fingerprints of every identity (this run, plus the state file's)."""

    def __init__(self, state: State | None, cfg: FingerprintConfig):
        self.state = state
        self.cfg = cfg
        self._refs: dict[str, list[RefEntry]] = {}
        self._models: dict[tuple, Any] = {}  # (identity, receiver, references) -> model

    def references(self, identity: str) -> list[RefEntry]:
        refs = self._refs.get(identity)
        if refs is None:
            refs = []
            if self.state is not None:
                for r in reversed(self.state.fingerprints(identity, FEATURE_NAMES,
                                                          limit=self.cfg.max_reference)):
                    refs.append(RefEntry(r.vector[_FP_IDX], r.vector,
                                         receiver_key(r.receiver, r.capture), r.source,
                                         r.capture, r.t))
            self._refs[identity] = refs
        return refs

    def add(self, identity: str, full: np.ndarray, capture: CaptureInfo, handle: int,
            t: float, freq_hz: float | None = None) -> None:
        """Remember a genuine press's fingerprint (full feature vector; its carrier ``freq_hz``,
        Hz, when known) and persist it."""
        refs = self.references(identity)
        refs.append(RefEntry(full[_FP_IDX].copy(), full.copy(),
                             receiver_key(capture.receiver, capture.name), "seen", capture.name, t,
                             freq_hz))
        seen = [i for i, r in enumerate(refs) if r.source == "seen"]
        if len(seen) > self.cfg.max_reference:
            del refs[seen[0]]
        if self.state is not None:
            self.state.add_fingerprint(identity, FEATURE_NAMES, full, handle=handle, t=t,
                                       abs_t=capture.abs_t(t), source="seen",
                                       receiver=capture.receiver)

    def history(self, identity: str, name: str) -> np.ndarray:
        """One feature's values over the identity's reference presses (finite ones)."""
        j = FEATURE_NAMES.index(name)
        v = np.array([r.full[j] for r in self.references(identity)], dtype=np.float64)
        return v[np.isfinite(v)]

    def learn(self, press: Any) -> bool:
        """Add a press nobody flagged (not old, foreign, relayed, a RollJam replay, heard
        through a jammer, collided with another transmission, beating with one or sharing a
        burst with one through its gaps) to its identity's reference; returns whether it was
        added."""
        if press.identity is None or press.flags & {"old", "foreign", "relayed", "rolljam",
                                                    "jammed", "collided", "beating",
                                                    "gap_filled"}:
            return False
        vec = press_fingerprint(press)
        if vec is None:
            return False
        self.add(press.identity, vec, press.capture, press.handle, press.t, press.freq_hz)
        return True

    def _cfo_offset(self, identity: str, rx_from: str, rx_to: str) -> float | None:
        """Median CFO difference (ppm) rx_to − rx_from over the other identities both heard."""
        diffs = []
        for ident, refs in self._refs.items():
            if ident == identity:
                continue
            a = [r.vector[_CFO] for r in refs if r.receiver == rx_from and np.isfinite(r.vector[_CFO])]
            b = [r.vector[_CFO] for r in refs if r.receiver == rx_to and np.isfinite(r.vector[_CFO])]
            if a and b:
                diffs.append(float(np.median(b)) - float(np.median(a)))
        return float(np.median(diffs)) if diffs else None

    def compare(self, identity: str, full: np.ndarray, capture: CaptureInfo,
                t: float | None = None, freq_hz: float | None = None,
                fixed_code: bool = False) -> Comparison | None:
        """Compare a press (full feature vector) with the identity's reference; None when the
        reference is too small to judge. ``t``: the press's time in ``capture`` (s), which lets
        references from the same capture minutes before it use the short-time CFO floor.
        ``freq_hz``: the press's carrier (Hz), which lets a clipped press leave out references
        that were its own clipping products. ``fixed_code``: the press is a fixed-code
        remote's (see :meth:`cfo_floor`)."""
        refs = self.references(identity)
        press_clipped = clipped(full)
        if press_clipped:
            refs = self._without_own_products(refs, capture, freq_hz, full[_CHANNEL_BW])
        if len(refs) < self.cfg.min_reference:
            return None
        x = full[_FP_IDX].copy()
        # a clipped press, or one under ``shape_min_snr_db``: only its carrier and timing are
        # the transmitter's
        min_snr = self.cfg.shape_min_snr_db
        if press_clipped or full[_SNR_FULL] < min_snr:
            x[list(_SHAPE)] = np.nan
        if not te_valid(full):
            x[_TE] = np.nan
        rx = receiver_key(capture.receiver, capture.name)
        m = np.vstack([r.vector for r in refs]).copy()
        # clipped or weak references say nothing about the envelope's shape either
        no_shape = np.array([clipped(r.full) or r.full[_SNR_FULL] < min_snr for r in refs])
        if no_shape.any():
            m[np.ix_(no_shape, sorted(_SHAPE))] = np.nan
        m[[not te_valid(r.full) for r in refs], _TE] = np.nan
        # edges and chirp are shaped by the channel filter they were measured through
        bw = full[_CHANNEL_BW]
        if np.isfinite(bw) and bw > 0:
            tol = self.cfg.shape_channel_tolerance
            other_filter = np.array([np.isfinite(r.full[_CHANNEL_BW])
                                     and abs(r.full[_CHANNEL_BW] / bw - 1.0) > tol
                                     for r in refs])
            if other_filter.any():
                m[np.ix_(other_filter, sorted(_SHAPE))] = np.nan
        # CFO calibration across receivers
        other = [r.receiver != rx for r in refs]
        calib = "same-receiver"
        if any(other):
            offsets = {}
            for k in {r.receiver for r in refs if r.receiver != rx}:
                offsets[k] = self._cfo_offset(identity, k, rx)
            for i, r in enumerate(refs):
                if r.receiver != rx:
                    off = offsets[r.receiver]
                    m[i, _CFO] = np.nan if off is None else m[i, _CFO] + off
                    # another dongle's filters and sample rate shape the envelope differently
                    m[i, sorted(_SHAPE)] = np.nan
            calib = ("via-other-identities" if all(v is not None for v in offsets.values())
                     else "partly-excluded" if not all(other) else "excluded")
        z = {}
        values = {}
        for j, name in enumerate(FINGERPRINT_FEATURES):
            col = m[:, j]
            col = col[np.isfinite(col)]
            if not np.isfinite(x[j]) or col.size < self.cfg.min_reference:
                continue
            med = float(np.median(col))
            if name in _RELATIVE and med > 0 and (not med / 3.0 <= x[j] <= 3.0 * med
                                                  or _octave(x[j] / med)):
                # three times off is no other transmitter's clock or deviation (the frame would
                # not have decoded with it) but a failed measurement: a clipping press beside
                # the receiver merged into one 15 ms "pulse" read Te = 14,650 µs. So is twice
                # or half (within OCTAVE_TOLERANCE): the estimator locked onto a double or half
                # width (a doorbell's clipped reference ring read 155.8 µs, its next ring
                # 311.6 µs, 167 spreads: fresh benign soak seed 93062); a replayer copies the
                # clock it heard
                continue
            mad = 1.4826 * float(np.median(np.abs(col - med)))
            if name == "cfo_ppm":
                recent = [r for r, ok in zip(refs, np.isfinite(m[:, j])) if ok]
                floor = self.cfo_floor(capture, t, recent, fixed_code)
            elif name in _RELATIVE:
                floor = FEATURE_FLOORS[name] * abs(med)
            else:
                floor = FEATURE_FLOORS[name]
            # a small reference underestimates its spread: widen it (≈ t-quantile growth)
            spread = max(mad * (1.0 + 2.0 / col.size), floor * (1.0 + 0.5 / col.size))
            z[name] = abs(float(x[j]) - med) / spread if spread > 0 else 0.0
            values[name] = {"value": float(x[j]), "reference": med, "spread": spread}
        if not z:
            return None
        zs = np.array(list(z.values()))
        score = float(np.sqrt(np.mean(zs ** 2)))
        max_z = float(np.max(zs))
        chi2 = float(np.sum(zs ** 2))
        mismatch = max_z >= self.cfg.clone_max_z or chi2 >= self.cfg.clone_chi2
        model_score = self._model_score(identity, rx, m, x)
        if model_score is not None and model_score < 0 and chi2 >= 0.5 * self.cfg.clone_chi2:
            mismatch = True
        core = [v for k, v in z.items() if k not in SHAPE_FEATURES]
        if core and max(core) < self.cfg.clone_core_agree_z:
            # the fob's carrier and clock: only a glaring envelope difference says otherwise
            mismatch = max((v for k, v in z.items() if k in SHAPE_FEATURES),
                           default=0.0) >= self.cfg.clone_shape_only_z
        shift = None
        if "cfo_ppm" in values:
            shift = values["cfo_ppm"]["value"] - values["cfo_ppm"]["reference"]
        return Comparison(z=z, score=score, max_z=max_z, mismatch=bool(mismatch),
                          references=len(refs), enrolled=sum(r.source == "enrolled" for r in refs),
                          cfo_calibration=calib, cfo_shift_ppm=shift, values=values,
                          model_score=model_score, clipped=press_clipped)

    def cfo_floor(self, capture: CaptureInfo, t: float | None, refs: list[RefEntry],
                  fixed_code: bool = False) -> float:
        """The CFO difference (ppm) that measurement and drift explain between a press at
        ``t`` (s) in ``capture`` and ``refs``: ``cfo_floor_ppm`` (days: temperature, battery,
        the tuner), but ``cfo_short_floor_ppm`` when every reference was heard by the same
        capture within ``cfo_short_window_s``. For a fixed-code press that is
        ``cfo_noise_floor_ppm`` plus ``cfo_drift_ppm_per_min`` for the time since the oldest
        reference, at most ``cfo_short_floor_ppm``: a crystal drifts with its temperature,
        which takes minutes to change by degrees, so seconds after a reference only the
        measurement's own scatter is left, and a fixed code's carrier a few ppm off is
        another radio's. A rolling-code press a few ppm off with the key's own bit clock may
        be the key's answer forwarded by a frequency-converting relay (the relay detector's
        case: an AF relay 4.7 ppm off read 5.7 spreads under the tighter floor and was
        called a clone, held-out seed 915), so its floor stays flat."""
        cfg = self.cfg
        if t is None or not refs or not all(
                r.capture == capture.name and r.t is not None
                and abs(t - r.t) <= cfg.cfo_short_window_s for r in refs):
            return cfg.cfo_floor_ppm
        if not fixed_code:
            return cfg.cfo_short_floor_ppm
        elapsed = max(abs(t - r.t) for r in refs)
        return min(cfg.cfo_short_floor_ppm,
                   cfg.cfo_noise_floor_ppm + cfg.cfo_drift_ppm_per_min * elapsed / 60.0)

    @staticmethod
    def _without_own_products(refs: list[RefEntry], capture: CaptureInfo,
                              freq_hz: float | None, channel_bw_hz: float) -> list[RefEntry]:
        """The references, less those heard in this capture on a clipping product of the
        press's carrier: when the clipped transmitter's own burst merged with a neighbour and
        did not decode, its product did and became the reference (a doorbell 9 dB over full
        scale, its −3F product 239 spreads of CFO from the doorbell's next ring: fresh soak
        seed 7071). Only products outside the press's own channel (``channel_bw_hz``) count:
        one inside it would have been part of the press's burst, and near the receiver's
        centre every carrier a few kHz away sits "on" a product (a replayer 29 ppm off a gate
        remote, development seed 418)."""
        centre = capture.center_freq_hz
        if freq_hz is None or centre is None:
            return refs
        f = freq_hz - centre
        bw = channel_bw_hz if np.isfinite(channel_bw_hz) else 0.0

        def own_product(r: RefEntry) -> bool:
            if r.freq_hz is None or r.capture != capture.name:
                return False
            k = clipping_product_order(r.freq_hz - centre, f)
            return k is not None and abs((k - 1) * f) > bw

        return [r for r in refs if not own_product(r)]

    def _model_score(self, identity: str, rx: str, m: np.ndarray, x: np.ndarray) -> float | None:
        """The one-class model's decision (> 0 inside) for fingerprint ``x``, the model fitted on
        the (calibrated) reference ``m`` once it has ``model_min_reference`` presses."""
        n = m.shape[0]
        if n < self.cfg.model_min_reference:
            return None
        key = (identity, rx, n)
        model = self._models.get(key)
        if model is None:
            from keyguard.models.identity import IdentityFingerprintModel

            full = np.full((n, len(FEATURE_NAMES)), np.nan)
            full[:, _FP_IDX] = m
            try:
                model = IdentityFingerprintModel().fit(full)
            except ValueError:  # nothing measurable: the z-scores alone decide
                return None
            # one cached model per identity and receiver: drop the stale ones
            for k in [k for k in self._models if k[:2] == key[:2]]:
                del self._models[k]
            self._models[key] = model
        q = np.full((1, len(FEATURE_NAMES)), np.nan)
        q[0, _FP_IDX] = x
        return float(model.decision_function(q)[0])
