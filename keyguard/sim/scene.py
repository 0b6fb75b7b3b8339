"""Transmitters in a scene: who is where, and how their frames reach the receiver.

A :class:`Scene` holds the receiver, the propagation model and the scenario seed. It turns "this
transmitter sends these frames at time t" into :class:`~keyguard.sim.emission.Emission` objects:
the frames are timed by the transmitter's bit clock, rendered through its RF fingerprint at its
real carrier (crystal offset included) as seen from the receiver's LO (tuner error included),
scaled by the link's path loss and passed through one block-fading draw per press.

Randomness is keyed by names (``tag``), never by call order: the same scenario and seed give the
same bytes even when devices are added or listed in another order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from keyguard.pulse_train import PulseTrain
from keyguard.sim.channel import FD_HALF, ChannelModel, Fading, Link
from keyguard.sim.emission import BurstEmission
from keyguard.sim.fingerprint import Fingerprint, render_burst
from keyguard.sim.noise import rng_for
from keyguard.sim.receiver import RtlSdr

#: Margin (s) added to the nominal length of a burst for clock error, jitter and edges.
_LEN_MARGIN = 0.12


@dataclass
class Transmitter:
    """One radio: name, fingerprint, nominal carrier (Hz), position (m), device class."""

    name: str
    fingerprint: Fingerprint
    freq_hz: float = 433.92e6
    position: tuple = (5.0, 0.0, 1.0)
    device_class: str = "fob"

    @property
    def carrier_hz(self) -> float:
        """The carrier this radio really sends (Hz)."""
        return self.fingerprint.carrier_hz(self.freq_hz)


@dataclass
class TimedFrame:
    """A frame as the transmitter's clock sends it: start time (s, capture time) and runs."""

    t: float
    frame: PulseTrain


@dataclass
class Scene:
    """Receiver, propagation model and seed: the place where transmitters are heard."""

    receiver: RtlSdr
    channel: ChannelModel = field(default_factory=ChannelModel)
    seed: int = 0
    _links: dict = field(default_factory=dict, repr=False)

    @property
    def sample_rate(self) -> float:
        return float(self.receiver.sample_rate)

    def link(self, tx: Transmitter, rx_pos=None) -> Link:
        """The (cached) link from a transmitter to the receiver (or to ``rx_pos``)."""
        pos = tuple(self.receiver.position if rx_pos is None else rx_pos)
        key = (tx.name, tuple(tx.position), pos)
        if key not in self._links:
            # shadowing is a property of the path: drawn per transmitter, position and receiver
            rng = rng_for(self.seed, "link", tx.name, *map(float, tx.position), *map(float, pos))
            self._links[key] = self.channel.link(tx.position, pos, tx.freq_hz, rng)
        return self._links[key]

    def offset_hz(self, tx: Transmitter) -> float:
        """Where the transmitter's carrier lands in the receiver's baseband (Hz)."""
        return self.receiver.offset_hz(tx.carrier_hz)

    def timed_frames(self, tx: Transmitter, frames: list[PulseTrain], t0: float,
                     tag: tuple) -> list[TimedFrame]:
        """Frames timed by the transmitter's bit clock: its clock error stretches both the runs
        and the gaps between frames, and each run edge gets its timing jitter."""
        fp = tx.fingerprint
        out = []
        for i, f in enumerate(frames):
            rt = fp.retime(f, rng_for(self.seed, "timing", *tag, i))
            out.append(TimedFrame(t0 + float(f.t) * (1.0 + fp.clock_error), rt))
        return out

    def fading(self, tx: Transmitter, tag: tuple, flat: bool = False) -> Fading:
        """One block-fading draw for the link (per press, keyed by ``tag``)."""
        return self.link(tx).fading(rng_for(self.seed, "fading", *tag), flat=flat)

    def tx_waveform(self, tx: Transmitter, frame: PulseTrain, lead_s: float, tail_s: float,
                    tag: tuple, amplitude: float = 1.0, freq_offset_hz: float | None = None) -> np.ndarray:
        """One already-timed frame rendered through the fingerprint at the receiver's offset."""
        off = self.offset_hz(tx) if freq_offset_hz is None else freq_offset_hz
        return render_burst(frame, tx.fingerprint, self.sample_rate, freq_offset_hz=off,
                            amplitude=amplitude, rng=rng_for(self.seed, "rf", *tag), lead_s=lead_s,
                            tail_s=tail_s, retime=False)

    def burst(self, t: float, duration_s: float, make: Callable[[float, float], np.ndarray],
              source: str) -> BurstEmission:
        """A BurstEmission at time t (s) whose ``make(lead_s, tail_s)`` renders the waveform,
        with room for edge and multipath filters on both sides."""
        fs = self.sample_rate
        pad = (FD_HALF + 4) / fs + 50e-6
        length = duration_s * (1.0 + _LEN_MARGIN) + 2 * pad + 200e-6
        return BurstEmission.at(t, fs, length, lambda lead: make(lead, pad), source=source, pad_s=pad)

    def emit_frames(self, tx: Transmitter, timed: list[TimedFrame], tag: tuple, *,
                    power_dbm: float | None = None, fading: Fading | None = None,
                    post: Callable[[np.ndarray, int], np.ndarray] | None = None,
                    source: str | None = None) -> list[BurstEmission]:
        """Emissions for timed frames sent by ``tx`` (one fading draw shared by all of them).

        power_dbm: transmit power (default: the fingerprint's). post(x, i): optional processing
        of frame i's received waveform (relays, raw replays) before it is placed.
        """
        p = tx.fingerprint.tx_power_dbm if power_dbm is None else power_dbm
        amp = self.link(tx).amplitude(p)
        fad = self.fading(tx, tag) if fading is None else fading
        fs = self.sample_rate
        out = []
        for i, tf in enumerate(timed):
            def make(lead, tail, tf=tf, i=i):
                x = self.tx_waveform(tx, tf.frame, lead, tail, (*tag, i), amplitude=amp)
                x = fad.apply(x, fs)
                return post(x, i) if post is not None else x
            out.append(self.burst(tf.t, tf.frame.duration_us * 1e-6, make, source or tx.name))
        return out


def frames_span(timed: list[TimedFrame]) -> tuple[float, float]:
    """(first start, last end) of timed frames (s)."""
    if not timed:
        return (0.0, 0.0)
    return (min(tf.t for tf in timed), max(tf.t + tf.frame.duration_us * 1e-6 for tf in timed))
