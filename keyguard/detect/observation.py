"""What the detectors are fed: captures on one timeline, and bursts with their decoded packets.

The detection stage never touches samples. A front end (``keyguard.dsp``) finds bursts, the
protocol engine decodes packets from them, ``keyguard.features`` measures each burst's RF
fingerprint; the pipeline then hands each burst to the detectors as one :class:`Observation`.
Times are kept twice: ``t`` relative to the capture (what alerts report) and an absolute
timeline time (seconds; POSIX time when the capture's start is known) that orders evidence
across captures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from keyguard.events import Packet


@dataclass(frozen=True)
class CaptureInfo:
    """One capture on the detection timeline.

    name: the capture's path/URI as printed in records. offset_s: timeline time of its first
    sample (POSIX seconds when ``start_time`` is known). receiver: a label for the radio that
    made it; captures with the same label share a tuner error (None: unknown, every capture is
    then calibrated on its own).
    """

    name: str
    offset_s: float
    start_time: datetime | None = None
    duration_s: float | None = None
    sha256: str | None = None
    receiver: str | None = None
    center_freq_hz: float | None = None

    def abs_t(self, t: float) -> float:
        """Timeline time (s) of capture time ``t`` (s)."""
        return self.offset_s + float(t)


class Timeline:
    """Places captures on one time axis: by start time when known, else one after another."""

    def __init__(self, unknown_gap_s: float = 3600.0):
        self.unknown_gap_s = float(unknown_gap_s)
        self._end = None  # timeline time at which the last placed capture ends

    def place(self, name: str, start_time: datetime | None = None, duration_s: float | None = None,
              sha256: str | None = None, receiver: str | None = None,
              center_freq_hz: float | None = None) -> CaptureInfo:
        if start_time is not None:
            if start_time.tzinfo is None:
                start_time = start_time.replace(tzinfo=timezone.utc)
            offset = start_time.timestamp()
        elif self._end is None:
            offset = 0.0
        else:
            offset = self._end + self.unknown_gap_s
        end = offset + (duration_s or 0.0)
        self._end = end if self._end is None else max(self._end, end)
        return CaptureInfo(name=name, offset_s=offset, start_time=start_time,
                           duration_s=duration_s, sha256=sha256, receiver=receiver,
                           center_freq_hz=center_freq_hz)

    def note_time(self, abs_t: float) -> None:
        """Extend the current end (captures of unknown duration grow as evidence arrives)."""
        self._end = abs_t if self._end is None else max(self._end, abs_t)


def order_captures(items: Sequence[Any], start_time=lambda c: getattr(c, "start_time", None)) -> list:
    """Items (e.g. ``Capture`` objects) sorted by start time; unknown start times keep their
    given order after the dated ones (stable)."""
    def key(ix):
        i, c = ix
        st = start_time(c)
        if st is None:
            return (1, 0.0, i)
        if st.tzinfo is None:
            st = st.replace(tzinfo=timezone.utc)
        return (0, st.timestamp(), i)
    return [c for _, c in sorted(enumerate(items), key=key)]


@dataclass
class BurstInfo:
    """The detectors' view of one burst (built from ``keyguard.dsp`` bursts or pulse trains).

    t, t_end: seconds from the capture's first sample. freq_hz: carrier (absolute Hz when the
    centre is known, else offset from centre). bandwidth_hz: occupied bandwidth. rssi_db,
    snr_db, noise_db: levels (dB) as the front end measured them. on_fraction: fraction of the
    burst with carrier on (1 for CW or noise, ≈ 0.3–0.6 for OOK data). jammer_like: the front
    end flagged it as a long channel-holding transmission. features: the burst's RF fingerprint
    (``keyguard.features.FeatureVector``) or None. channel_offset_hz: the carrier's offset
    from the centre of the channel filter the features were measured through (Hz), or None;
    channel_bw_hz: that filter's bandwidth (Hz, two-sided), or None.
    """

    t: float
    t_end: float
    freq_hz: float | None = None
    bandwidth_hz: float | None = None
    rssi_db: float | None = None
    snr_db: float | None = None
    noise_db: float | None = None
    on_fraction: float | None = None
    jammer_like: bool = False
    features: Any = None
    extra: dict = field(default_factory=dict)
    #: known only as a pulse train (Flipper .sub, rtl_433 .ook): no IQ, no RF features
    pulse_only: bool = False
    channel_offset_hz: float | None = None
    #: the front end merged two coincident spectral lobes that are keyed, not a 2-FSK
    #: carrier's steady tones: two transmitters on at once, one burst
    keyed_lobes: bool = False
    channel_bw_hz: float | None = None
    #: demodulation stopped this long (s) after ``t``; the rest went unexamined (the pipeline
    #: bounds a long burst's demodulation). None: all of it was demodulated.
    demod_limit_s: float | None = None
    #: stretches of the burst demodulated as bursts of their own (another, weaker
    #: transmitter's keying, ``keyguard.dsp.demod.quiet_active_runs``), each with its own
    #: carrier, level and features: the packets decoded inside one are that transmitter's
    parts: tuple["BurstInfo", ...] = ()

    def part_of(self, t: float, t_end: float) -> "BurstInfo":
        """The part holding the middle of ``t``..``t_end`` (s, e.g. a packet's), or the whole
        burst."""
        mid = 0.5 * (t + t_end)
        for p in self.parts:
            if p.t <= mid <= p.t_end:
                return p
        return self

    @property
    def duration_s(self) -> float:
        return max(0.0, self.t_end - self.t)

    @classmethod
    def from_burst(cls, burst: Any, features: Any = None,
                   demod_limit_s: float | None = None,
                   parts: tuple["BurstInfo", ...] = ()) -> "BurstInfo":
        """From a ``keyguard.dsp.bursts.Burst``: its span, carrier (absolute when the capture's
        centre is known, else the offset from it, like packets), levels, duty cycle and the
        front end's ``continuous`` (jammer-like) flag."""
        freq = getattr(burst, "freq_hz", None)
        if freq is None:
            freq = getattr(burst, "offset_hz", None)
        return cls(t=float(burst.t), t_end=float(burst.t_end), freq_hz=_opt(freq),
                   bandwidth_hz=_opt(getattr(burst, "bandwidth_hz", None)),
                   rssi_db=_opt(getattr(burst, "rssi_db", None)),
                   snr_db=_opt(getattr(burst, "snr_db", None)),
                   noise_db=_opt(getattr(burst, "noise_db", None)),
                   on_fraction=_opt(getattr(burst, "duty_cycle", None)),
                   jammer_like=bool(getattr(burst, "continuous", False)), features=features,
                   channel_offset_hz=_difference(getattr(burst, "offset_hz", None),
                                                 getattr(burst, "channel_offset_hz", None)),
                   channel_bw_hz=_opt(getattr(burst, "channel_bw_hz", None)),
                   demod_limit_s=demod_limit_s, parts=parts,
                   keyed_lobes=(getattr(burst, "fsk_lobes_hz", None) is not None
                                and getattr(burst, "fsk_tones_hz", None) is None))

    @classmethod
    def from_pulse_train(cls, pt: Any, features: Any = None) -> "BurstInfo":
        """From a ``PulseTrain`` (pulse captures such as Flipper ``.sub`` have no IQ)."""
        d = pt.durations_us
        total = float(d.sum())
        on = float(d[pt.levels == 1].sum()) if total > 0 else 0.0
        return cls(t=float(pt.t), t_end=float(pt.t_end), freq_hz=pt.freq_hz, rssi_db=pt.rssi_db,
                   snr_db=pt.snr_db, noise_db=pt.noise_db,
                   on_fraction=(on / total) if total > 0 else None, features=features,
                   pulse_only=True)


def _opt(v: Any) -> float | None:
    return None if v is None else float(v)


def _difference(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else float(a) - float(b)


@dataclass
class Observation:
    """One burst and what was decoded from it (either side may be missing: a pulse-only capture
    has packets without IQ features; an undecodable burst has no packets)."""

    burst: BurstInfo | None = None
    packets: Sequence[Packet] = ()

    @property
    def t(self) -> float:
        if self.burst is not None:
            return self.burst.t
        return min(p.t for p in self.packets) if self.packets else 0.0
