"""Wideband burst detection: active channels, bursts, and each burst's own channel.

:class:`BurstDetector` is a streaming object: feed it the capture's sample blocks in order
(``process``), then ``flush`` at the end; each call returns the bursts that are complete, in
time order. Memory is bounded by the longest burst kept whole (``max_burst_s``) whatever the
stream's length, so it serves a live receiver as well as a file.

How it works (all tunable through the constructor):

1. The band is cut into ticks (≈ 1 ms, at least 512 samples) × bins (≈ 4 kHz) of power
   (:class:`~keyguard.dsp.channelize.TickSpectrum`), on an absolute sample grid, so results do
   not depend on block sizes.
2. Each bin has its own noise floor (:class:`~keyguard.dsp.noise.NoiseFloor`, minimum
   statistics). A cell is a *seed* when its power is ``seed_db`` over the floor (or its 4-tick
   mean ``seed_db − long_gain_db`` over it) and an *extension* at the lower ``extend_db``
   (``extend_db − long_gain_db``); noise alone almost never reaches a seed.
3. Runs of extension bins in a tick are linked across ticks into *regions* (a transmitter on
   one channel): a run goes to the region whose core (the bins within 20 dB of its peak)
   holds the run's strongest bin, and bins no region claims start a new region if they hold
   a seed. A region ends after ``hang_s`` without activity; one that comes back after a
   silence that separates frames (12 ms) with another transmitter, lighting four times as
   many bins as its core 10 dB over what they held (a noise jammer over a fob's bins just
   after its press), ends at that silence, with the regions that began and went quiet with
   it, and what came after goes on as regions of their own (a fob's next frame goes on in its
   region). A region whose level jumps 12 dB
   over each of its four batches (32 ticks) before (within two batches, each 6 dB over
   them), when those held energy ≥ 20 kHz wide and 12 dB under another open region (its
   skirt, image or clipping product), is split there: the transmitter that began inside it
   is a region of its own, on a channel cut from what jumped (``Burst.after_jump``). A
   region in which a second peak rises 12 dB over what its bins held, at least half the
   narrowest channel from the region's peak and past a valley 6 dB under both, is forked:
   that side goes on as a region of its own (two transmitters of similar level 20-30 kHz
   apart share one core, each within 20 dB of the other). A
   common-mode correction (the band's lower quartile) keeps a band-wide rise — receiver
   gain, a strong carrier's skirt — from lighting every bin. A strong carrier's bins and a
   weak fob's bins 50 kHz away stay apart, so each gets its own region (the RollJam case).
4. Regions that start and end together (within 2 ticks) are one transmitter: two of similar
   power are the lobes of a 2-FSK signal and are merged; a much weaker one is an image or
   splatter of the stronger. So is a weak region that only lights up while a much stronger
   *keyed* transmitter is on (clipping and intermodulation of an 8-bit receiver); a steady
   carrier (a jammer) never shadows its neighbours, but its own by-products are dropped:
   regions much weaker that switch on and off with a long steady transmission and are steady
   themselves (images, intermodulation, noise skirt of a clipping jammer), which would cost as
   much to finish as the jammer; a keyed region never is (a fob a reactive jammer started on).
   A short band-wide rise (a strong burst clipping the receiver) pairs with no region and is
   dropped alone: it never takes that burst's own region with it as a lobe or ghost.
   These are dropped and counted in ``stats``, as are bursts whose carrier turns out to sit in
   a stronger neighbour's core and copies of one package found through two regions (the
   longer copy stays, or the one ``ghost_db`` stronger, or the one centred in its channel
   where the other sits at its channel's edge: a transmitter in its own channel, not its
   splatter seen through a wide one or a neighbour's). When a long transmission ends, the
   steady, much weaker regions that began with it end too (what a clipping jammer leaves at
   0 Hz would keep one of them open for the noise floor's window).
5. A finished region is cut from the raw sample history, cleared of the receiver's DC offset
   (tracked from ticks with a quiet centre bin), shifted to 0 Hz, filtered to its channel
   bandwidth (from the occupied bandwidth, at least ``min_channel_bw_hz``; both stop short of
   the core of a neighbour sending at the same time within ``ghost_db`` of the region's level,
   half a minimum channel away or more) and decimated
   (:func:`~keyguard.dsp.channelize.extract_channel`). The carrier-on runs in the channel
   are split into packages by rtl_433's rule (a gap longer than 10× the longest pulse and
   10 ms, or longer than 100 ms), and each package becomes a :class:`Burst`. In a long
   region, pulses keyed on top of a steady line in the same channel (a fob over a jammer's
   spur) become bursts of their own (``keyed_on_steady``). Finishing a long region costs a
   bounded amount of spectral work (envelope comparisons on at most ``MAX_ENVELOPE_FRAMES``
   frames, the carrier from at most 32 averaged spectra).

Long transmissions (a jammer) are bursts too, flagged ``continuous``; a region longer than
``max_burst_s`` is cut into segments flagged ``truncated_end`` / ``truncated_start``, and a
steady one (not keyed over its first 0.25 s: a carrier, a noise jammer) already at
``steady_burst_s`` (1 s). Bursts leave in start order, so an open region holds back every
burst after its start: the steady cut bounds that hold, and the CPU of finishing a jammer, to
a second's worth (a live monitor's jamming alert then comes within a second of the clear).
``workers`` threads finish the regions of one pass side by side (the same bursts for any
number).

Levels (see :class:`Burst`): ``snr_db`` follows the project convention (architecture.md) and
the simulator: mean signal power while the carrier is on over the noise power of the whole
sampled band. ``channel_snr_db`` is the same signal power over the noise inside the burst's
channel filter, which is what the demodulator sees before it integrates; the two differ by
10·log10(band noise / channel noise): ≈ 7 dB at 250 ksps and ≈ 13 dB at 1.024 Msps for a
40 kHz channel.
"""

from __future__ import annotations

import collections
import functools
import heapq
import math
import threading
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
from scipy import special

from keyguard.dsp.channelize import TickSpectrum, channel_noise_bandwidth, extract_channel, fft_size_for
from keyguard.dsp.demod import KEYED_MAX_CHANNEL_HZ, block_power, carrier_activity, fine_carrier, \
    median, power64, spectral_lobes
from keyguard.dsp.noise import NoiseFloor
from keyguard.dsp.workers import ordered_map
from keyguard.io.capture import DEFAULT_BLOCK, Capture, SampleBlock


#: smallest noise power used for levels (linear, full scale 1.0): −90 dBFS
MIN_NOISE = 1e-9


@dataclass
class Burst:
    """One detected transmission (a package) on one channel.

    start, stop: capture sample indices of the first carrier-on sample and one past the last.
    sample_rate: the capture's rate (Hz). center_freq: the capture's centre (Hz) or None.
    offset_hz: carrier offset from the capture centre (Hz; for 2-FSK the middle of the tones).
    channel_offset_hz: where ``iq`` is centred (Hz from the capture centre).
    rssi_db: signal power while the carrier is on, dBFS (noise removed).
    snr_db: rssi over the noise power of the whole sampled band (dB; the simulator's SNR).
    channel_snr_db: rssi over the noise inside the channel filter (dB).
    noise_db: noise power of the whole band, dBFS. channel_noise_db: inside the channel, dBFS.
    bandwidth_hz: occupied bandwidth (−20 dB) seen by the short-time spectrum.
    duty_cycle: fraction of [start, stop) with the carrier on.
    iq: channel samples (complex64, baseband at ``channel_offset_hz``), a little wider than the
    burst; ``iq[k]`` is capture sample ``iq_start + k·iq_step``. iq_rate: their rate (Hz).
    channel_bw_hz: the channel filter's bandwidth (Hz, two-sided).
    continuous: a long, mostly-on transmission (jammer-like).
    truncated_start / truncated_end: the burst continues before / after this segment (it was
    cut at ``max_burst_s``).
    fsk_lobes_hz: the two spectral lobes (Hz from the capture centre) when the detector merged
    them as one 2-FSK transmitter, else None.
    on_mask: carrier-on flag per ``iq`` sample as measured here (the demodulator reuses it).
    fsk_tones_hz: the 2-FSK tones (Hz from the capture centre, lower first) when the carrier
    stays on and its spectrum has two lobes, else None (a keyed carrier: OOK).
    keyed_on_steady: pulses keyed on top of a steady line in the same channel (a fob over a
    jammer's intermodulation spur); their noise levels are that line's power.
    band_wide: a rise of the whole band (a noise jammer wider than most of it), found apart
    from the per-channel regions; never taken as a copy of a burst inside it.
    after_jump: its region was split off where the level in its bins jumped (another
    transmitter began inside a region holding a neighbour's weak skirt or image); never taken
    as a copy of a burst that began before it.
    """

    start: int
    stop: int
    sample_rate: float
    center_freq: float | None
    offset_hz: float
    channel_offset_hz: float
    rssi_db: float
    snr_db: float
    channel_snr_db: float
    noise_db: float
    channel_noise_db: float
    bandwidth_hz: float
    duty_cycle: float
    iq: np.ndarray = field(repr=False)
    iq_rate: float
    iq_start: int
    iq_step: int
    channel_bw_hz: float
    continuous: bool = False
    truncated_start: bool = False
    truncated_end: bool = False
    fsk_lobes_hz: tuple[float, float] | None = None
    on_mask: np.ndarray | None = field(default=None, repr=False, compare=False)
    fsk_tones_hz: tuple[float, float] | None = None
    keyed_on_steady: bool = False
    band_wide: bool = False
    after_jump: bool = False

    @property
    def t(self) -> float:
        """Start, seconds from the capture's first sample."""
        return self.start / self.sample_rate

    @property
    def t_end(self) -> float:
        """End, seconds from the capture's first sample."""
        return self.stop / self.sample_rate

    @property
    def duration_s(self) -> float:
        return (self.stop - self.start) / self.sample_rate

    @property
    def freq_hz(self) -> float | None:
        """Absolute carrier frequency (Hz) when the capture's centre is known."""
        return None if self.center_freq is None else self.center_freq + self.offset_hz

    def channel_span(self, k0: int, k1: int, start: int, stop: int,
                     on_mask: np.ndarray | None = None) -> "Burst":
        """Channel samples ``iq[k0:k1]`` as a burst from capture sample ``start`` to ``stop``
        (within this one's), flagged ``truncated_start`` / ``truncated_end`` where it was cut.
        ``on_mask``: the carrier-on flags to slice (default this burst's own)."""
        mask = self.on_mask if on_mask is None else on_mask
        return replace(self, iq=self.iq[k0:k1], on_mask=None if mask is None else mask[k0:k1],
                       iq_start=self.iq_start + k0 * max(self.iq_step, 1),
                       start=start, stop=stop,
                       truncated_start=self.truncated_start or start > self.start,
                       truncated_end=self.truncated_end or stop < self.stop)


class _Region:
    """Bins active together across ticks: one transmitter while it is being tracked.

    ``lo``..``hi`` is the region's *core*: the bins on either side of its strongest bin whose
    mean power over the floor stays within ``CORE_DB`` of that peak. Runs are matched against
    the core, not against every bin ever attached: a strong keyed transmitter splashes its
    edges over many bins in many ticks, and a core grown from those would swallow a weaker
    neighbour 50 kHz away.
    """

    CORE_DB = 20.0
    #: ticks per level batch: the core is refreshed, and the region's level taken, this often
    BATCH = 8
    #: a batch this much (linear, 12 dB) over each of the WEAK_BATCHES before it: another
    #: transmitter began in a region that was holding only weak energy (see _batch_level)
    JUMP = 10 ** 1.2
    #: ... batches (32 ticks: longer than a fob's or a sensor's gaps between frames, through
    #: which a fob beside the receiver leaks its carrier)
    WEAK_BATCHES = 4
    #: a start may take up to this many batches to reach JUMP, each of them RISE (linear, 6 dB)
    #: over the weak ones: a keyed transmitter starting mid-batch, its first pulses spread over
    #: the batches it lands in (a weather sensor inside a doorbell's skirt rose 7, 10 and 19 dB
    #: over three batches: fresh benign soak seed 92085)
    TRANSITION = 2
    RISE = 10 ** 0.6
    #: what comes after a package gap is judged over this many ticks (see _wider_after_gap):
    #: long enough that a frame's first tick, weak when it starts late in the tick, or
    #: splashed over many bins by a strong fob's first keying edge, weighs little
    RENEW_TICKS = BATCH
    #: ... and is another transmitter when it lights this many times as many bins as the
    #: core held (a noise jammer 200 kHz wide 80 ms after a fob's press lit 45 beside the
    #: fob's 7: development RollJam sample seed 418; a transmitter's own next frames lit
    #: fewer than the core's width)
    WIDER = 4.0
    #: ... each holding this much (linear, 10 dB) more power than before the gap (an AF
    #: relay's amplifier noise, on under the relayed press and after it, came out 6-8 dB over
    #: itself in a few bins once the press had stopped lifting the band's quartile:
    #: development relay seed 312)
    LIT = 10.0
    __slots__ = ("lo", "hi", "reach_lo", "reach_hi", "start", "last", "ticks", "spec", "floor",
                 "seeded", "cont_before", "cont_after", "dc", "steady", "wide", "cut_bins",
                 "marks", "levels", "jump", "jump_bins", "onset", "fork", "gap", "renew")

    def __init__(self, lo: int, hi: int, start: int, n_bins: int, cont_before: bool = False):
        self.lo, self.hi = lo, hi
        self.reach_lo, self.reach_hi = lo, hi  # every bin ever attached
        self.start = start
        self.last = start - 1
        self.ticks: list[int] = []
        self.spec = np.zeros(n_bins)
        self.floor = np.zeros(n_bins)
        self.seeded = cont_before
        self.cont_before = cont_before
        self.cont_after = False
        self.dc = 0j  # the receiver's DC offset when the region began
        self.steady: bool | None = None  # not keyed over its onset (None: not judged yet)
        self.wide = False  # a band-wide rise (_track_wide)
        self.cut_bins: tuple[int, int] | None = None  # a segment after a cut: its predecessor's core
        # (spec, floor, tick count) at the last TRANSITION + 2 batch ends, the last
        # WEAK_BATCHES + TRANSITION batch levels, and the mark at the start of a jump (None)
        self.marks: list[tuple[np.ndarray, np.ndarray, int]] = []
        self.levels: list[float] = []
        self.jump: tuple[np.ndarray, np.ndarray, int] | None = None
        self.jump_bins = 0  # the core's width (bins) over the weak batches before the jump
        # split off another region at a jump: the excess (as excess()) of its first batch
        self.onset: np.ndarray | None = None
        # another transmitter began beside this one's peak (see _fork_candidate): (its peak
        # bin, this one's peak bin, the valley bin between them), absolute bins
        self.fork: tuple[int, int, int] | None = None
        # the last resumption after a package gap: (spec, floor, tick count) there, the last
        # tick before the gap and the core then; ``renew`` once what came after it is another
        # transmitter (see _wider_after_gap)
        self.gap: tuple[np.ndarray, np.ndarray, int, int, int, int] | None = None
        self.renew = False

    @property
    def pending(self) -> bool:
        """What came after the last package gap is not judged yet (see ``renew``)."""
        return self.gap is not None and len(self.ticks) < self.gap[2] + self.RENEW_TICKS

    @property
    def jumped(self) -> bool:
        """Split off another region where its level jumped (see ``split``)."""
        return self.onset is not None

    def add(self, t: int, lo: int, hi: int, power: np.ndarray, floor: np.ndarray,
            gap: int = 0) -> bool:
        """Count bins lo..hi of tick t in; True when the core moved. ``gap``: ticks of silence
        after which what comes is judged (``renew``), 0 for never."""
        if lo < self.reach_lo:
            self.reach_lo = lo
        if hi > self.reach_hi:
            self.reach_hi = hi
        if not self.ticks or self.ticks[-1] != t:
            if 0 < gap < t - self.last and self.ticks:
                self.gap = (self.spec.copy(), self.floor.copy(), len(self.ticks), self.last,
                            self.lo, self.hi)
            self.ticks.append(t)
            self.last = t
            self.spec += power
            self.floor += floor
            n = len(self.ticks)
            if self.gap is not None and n == self.gap[2] + self.RENEW_TICKS:
                self.renew = self._wider_after_gap()
            if n % self.BATCH == 0:
                self._batch_level()
                return self._update_core()
            if n <= 4:  # the core settles quickly; refresh it now and then
                return self._update_core()
        return False

    def _batch_level(self) -> None:
        """Take the level of the batch of ticks just completed: the strongest core bin's mean
        power over its floor (SNR, linear). A region that was holding only weak energy — the
        skirt or image of a neighbour, a short burst's region kept open by them — adopts any
        transmitter that starts inside its core; such a start shows as a batch ``JUMP`` over
        each of the ``WEAK_BATCHES`` before it (reached within ``TRANSITION`` batches, each
        ``RISE`` over them), and ``jump`` marks it for the detector to split the region there."""
        lo, hi, n = self.lo, self.hi + 1, len(self.ticks)
        if self.marks:
            spec0, floor0, n0 = self.marks[-1]
            spec, floor = self.spec[lo:hi] - spec0[lo:hi], self.floor[lo:hi] - floor0[lo:hi]
        else:
            n0, spec, floor = 0, self.spec[lo:hi], self.floor[lo:hi]
        # (each tick's floor is at least 1e-30; the difference of two sums may round to 0)
        floor = np.maximum(floor, 1e-30 * (n - n0))
        level = float(np.max((spec - floor) / floor))
        levels, w = self.levels, self.WEAK_BATCHES
        m = len(levels)
        # a start k batches back, the earliest first: the WEAK_BATCHES before it are the base
        # (a batch of ticks at the floor — the 4-tick mean's tail after a pulse — counts as
        # 0 dB: from there, only a transmitter JUMP over the floor is a jump)
        for k in range(min(self.TRANSITION, m - w), -1, -1):
            base = max(max(levels[m - k - w:m - k]), 1.0)
            if level >= self.JUMP * base and all(x >= self.RISE * base for x in levels[m - k:]):
                self.jump, self.jump_bins = self.marks[-1 - k], hi - lo
                break
        levels.append(level)
        if len(levels) > w + self.TRANSITION:
            del levels[0]
        if self.jump is None and len(self.marks) >= 2:
            self._fork_candidate()
        self.marks.append((self.spec.copy(), self.floor.copy(), n))
        if len(self.marks) > self.TRANSITION + 2:
            del self.marks[0]

    def _wider_after_gap(self) -> bool:
        """True when the ``RENEW_TICKS`` after the last package gap hold another transmitter,
        lighting ``WIDER`` times as many bins as the region's core held: not the same one's
        next frame, but one that began over its bins while the region was still open (a
        jammer within ``hang_s`` of a fob's press). Its bins are those on either side of the
        strongest in that core, over the whole band, down to ``CORE_DB`` under it (a
        single-bin hole bridged: the receiver's DC bin); lit are those holding ``LIT`` times
        the power they held before the gap, and ``JUMP`` over it relative to the peak there.
        The same transmitter has the same spectrum after the gap and a louder one the same
        shape; a region on a stronger neighbour's skirt measures the same skirt before and
        after (the span alone, walked across the valley into the neighbour or not, went from 8
        to 36 bins on a clone's clipping product: development clone seed 314); a wide noise on
        all along under a strong fob keeps its power (``LIT``)."""
        spec0, floor0, n0, _, lo, hi = self.gap
        before = (spec0 - floor0) / n0
        after = (self.spec - spec0 - (self.floor - floor0)) / (len(self.ticks) - n0)
        k = lo + int(np.argmax(after[lo:hi + 1]))
        p0, p1 = float(np.max(before[lo:hi + 1])), float(after[k])
        if not (p0 > 0 and p1 > 0):
            return False
        under = after < p1 * 10 ** (-self.CORE_DB / 10)
        edge = np.concatenate(([True], under, [True]))
        under &= edge[:-2] | edge[2:]
        below = np.flatnonzero(under)
        i = int(np.searchsorted(below, k))
        a = int(below[i - 1]) + 1 if i > 0 else 0
        b = int(below[i]) if i < below.size else after.size
        held = np.maximum(before[a:b], 0.0)
        lit = (after[a:b] >= self.LIT * held) & (after[a:b] * p0 >= self.JUMP * p1 * held)
        return int(np.count_nonzero(lit)) >= self.WIDER * (hi - lo + 1)

    #: a fork's valley lies this much (linear, 6 dB) under both peaks in the batch
    VALLEY = 10 ** 0.6

    def _fork_candidate(self) -> None:
        """Look for another transmitter that began beside this one in the batch just
        completed: a bin ``JUMP`` over what the batches before it held there, where those
        batches held a transmitter (peak ``JUMP`` over the floor) elsewhere, with a valley
        ``VALLEY`` under both peaks between them in the batch. Two transmitters of similar
        level 20-30 kHz apart share one core (each lies within ``CORE_DB`` of the other), and
        no level jump shows at the region's peak (fresh benign soak seed 145021: a sensor and
        a passer-by's press 22.5 kHz apart). ``fork`` marks it for the detector, which judges
        the separation in Hz."""
        r0, r1 = self.reach_lo, self.reach_hi + 1
        if r1 - r0 < 3:
            return
        s1, f1, _ = self.marks[-1]
        s0, f0, _ = self.marks[0]
        fc = np.maximum(self.floor[r0:r1] - f1[r0:r1], 1e-30)
        fb = np.maximum(f1[r0:r1] - f0[r0:r1], 1e-30)
        cur = (self.spec[r0:r1] - s1[r0:r1]) / fc - 1.0
        base = (s1[r0:r1] - s0[r0:r1]) / fb - 1.0
        k_old = int(np.argmax(base))
        if not base[k_old] >= self.JUMP:
            return  # weak energy before: a jump (_batch_level) or nothing
        risen = np.where(cur >= self.JUMP * np.maximum(base, 1.0), cur, -np.inf)
        k_new = int(np.argmax(risen))
        if risen[k_new] == -np.inf or abs(k_new - k_old) < 2:
            return
        a, b = sorted((k_old, k_new))
        v = a + 1 + int(np.argmin(cur[a + 1:b]))
        if cur[v] * self.VALLEY <= min(cur[k_new], cur[k_old]):
            self.fork = (r0 + k_new, r0 + k_old, r0 + v)

    def fork_off(self, n_bins: int) -> "_Region":
        """Cut the bins on the new transmitter's side of the fork's valley off as a region of
        its own from the batch just completed (it began there); this one goes on with the
        bins on its side."""
        k_new, k_old, v = self.fork
        self.fork = None
        new = self._tail(self.marks[-2], n_bins)  # (the last mark is the batch's end)
        if k_new < k_old:
            new.reach_hi, self.reach_lo = v - 1, v
        else:
            new.reach_lo, self.reach_hi = v + 1, v
        new._update_core()
        self._update_core()
        return new

    def _tail(self, mark: tuple[np.ndarray, np.ndarray, int], n_bins: int) -> "_Region":
        """A region of the ticks from ``mark`` (spec, floor, tick count) on, on this one's
        bins, its ``onset`` the excess over them (its core is left to the caller; ``onset``
        is for the caller to clear)."""
        spec0, floor0, i0 = mark
        new = _Region(self.lo, self.hi, self.ticks[i0], n_bins)
        new.ticks = self.ticks[i0:]
        new.last = new.ticks[-1]
        new.spec, new.floor = self.spec - spec0, self.floor - floor0
        new.reach_lo, new.reach_hi = self.reach_lo, self.reach_hi
        new.seeded = True
        new.dc = self.dc
        new.marks = [(new.spec.copy(), new.floor.copy(), len(new.ticks))]
        new.onset = new.excess()
        return new

    def split(self, n_bins: int,
              mark: tuple[np.ndarray, np.ndarray, int] | None = None) -> "_Region":
        """Cut off the batches from ``jump`` (or from ``mark``) on as a new region; this one
        ends before them."""
        if mark is None:
            mark = self.jump
            if self.gap is not None and mark[2] < self.gap[2]:
                # a package gap inside the batches that jumped: the newcomer began after it
                # (a jammer 80 ms after a fob's press took the press's last ticks with it)
                mark = self.gap[:3]
        spec0, floor0, i0 = mark
        new = self._tail(mark, n_bins)
        self.jump, self.gap, self.renew = None, None, False
        self.ticks = self.ticks[:i0]
        self.last = self.ticks[-1]
        self.spec, self.floor = spec0.copy(), floor0.copy()
        self.cont_after = False
        self.levels, self.marks = [], []
        self._update_core()
        new._update_core()
        return new

    def _update_core(self) -> bool:
        n = max(len(self.ticks), 1)
        ex = (self.spec[self.reach_lo:self.reach_hi + 1] - self.floor[self.reach_lo:self.reach_hi + 1]) / n
        # the core: the strongest bin and the bins on either side down to CORE_DB under it,
        # walked over a list (a few dozen bins: numpy's calls cost more than the walk)
        values = ex.tolist()
        total = sum(values)
        if total != total:  # a NaN (or inf − inf) somewhere: numpy's argmax and comparisons
            return self._set_core(*self._core_of(ex))
        peak = max(values)
        k = values.index(peak)
        a = b = k
        if peak > 0:  # else nothing above the floor yet (a run of extension cells only)
            thr = peak * 10 ** (-self.CORE_DB / 10)
            while a > 0 and not values[a - 1] < thr:
                a -= 1
            while b < len(values) - 1 and not values[b + 1] < thr:
                b += 1
        return self._set_core(a, b)

    def _core_of(self, ex: np.ndarray) -> tuple[int, int]:
        """The core's first and last bin in ``ex`` by numpy (``ex`` may hold NaN)."""
        k = int(np.argmax(ex))
        if ex[k] <= 0:
            below = np.flatnonzero(np.arange(ex.size) != k)
        else:
            below = np.flatnonzero(ex < ex[k] * 10 ** (-self.CORE_DB / 10))
        i = int(np.searchsorted(below, k))
        a = int(below[i - 1]) + 1 if i > 0 else 0
        b = int(below[i]) - 1 if i < below.size else ex.size - 1
        return a, b

    def _set_core(self, a: int, b: int) -> bool:
        """Core = bins a..b of the reach; True when it moved."""
        lo, hi = self.reach_lo + a, self.reach_lo + b
        moved = (lo, hi) != (self.lo, self.hi)
        self.lo, self.hi = lo, hi
        return moved

    def absorb(self, other: "_Region") -> None:
        """Take over another region on the same channel (their cores came to overlap)."""
        # a segment after a cut taking over a region that began under its predecessor
        cut = next(((seg.start, seg.cut_bins) for seg, old in ((self, other), (other, self))
                    if seg.cut_bins is not None and not old.cont_before and old.start < seg.start),
                   None)
        if other.jumped and not self.jumped and abs(other.start - self.start) <= 2:
            # the rest of the transmitter that jumped, first seen beside the weak energy
            self.onset = other.onset
        n_sum = len(self.ticks) + len(other.ticks)
        self.start = min(self.start, other.start)
        self.last = max(self.last, other.last)
        self.ticks = sorted(set(self.ticks) | set(other.ticks))
        # both summed whole rows; a tick active in both was counted twice, so keep the mean
        # row and rescale it to the merged tick count
        scale = len(self.ticks) / max(n_sum, 1)
        self.spec = (self.spec + other.spec) * scale
        self.floor = (self.floor + other.floor) * scale
        self.reach_lo, self.reach_hi = min(self.reach_lo, other.reach_lo), max(self.reach_hi, other.reach_hi)
        self.seeded |= other.seeded
        self.cont_before |= other.cont_before
        self.cont_after |= other.cont_after
        self._update_core()
        if cut is not None and cut[1][0] - 2 <= self.lo and self.hi <= cut[1][1] + 2:
            # ... on the predecessor's channel: the predecessor's segments have finished those
            # ticks already, so the merged region starts at the cut instead of finishing them
            # a second time
            kept = [t for t in self.ticks if t >= cut[0]]
            scale = len(kept) / max(len(self.ticks), 1)
            self.spec *= scale
            self.floor *= scale
            self.ticks = kept
            self.start, self.cut_bins = cut
        # levels are not compared across a merge, nor what comes after a gap
        self.marks = [(self.spec.copy(), self.floor.copy(), len(self.ticks))]
        self.levels, self.jump, self.gap, self.renew = [], None, None, False

    def overlap(self, lo: int, hi: int, tol: int) -> int:
        """Bins shared by [lo, hi] and the core widened by ``tol`` (≤ 0: none)."""
        return min(hi, self.hi + tol) - max(lo, self.lo - tol) + 1

    def excess(self) -> np.ndarray:
        """Mean power over the floor per bin while active (linear, ≥ 0)."""
        n = max(len(self.ticks), 1)
        return np.maximum(self.spec / n - self.floor / n, 0.0)

    def peak(self) -> tuple[int, float]:
        ex = self.excess()
        k = self.lo + int(np.argmax(ex[self.lo:self.hi + 1]))
        return k, float(ex[k])


def _ema(x: np.ndarray, alpha: float, state: complex) -> np.ndarray:
    """Exponential moving average y[n] = y[n−1] + α(x[n] − y[n−1]) from y[−1] = state.

    Closed form per piece of ≤ 2048 values (the weights (1−α)^−k stay well within range)."""
    out = np.empty(x.size, dtype=np.complex128)
    for a in range(0, x.size, 2048):
        piece = x[a:a + 2048]
        grow = _ema_weights(alpha, piece.size)
        out[a:a + piece.size] = (state + alpha * np.cumsum(piece * grow)) / grow
        state = complex(out[a + piece.size - 1])
    return out


@functools.lru_cache(maxsize=32)
def _ema_weights(alpha: float, size: int) -> np.ndarray:
    """(1−α)^−(k+1) for k = 0 … size−1 (read-only): :func:`_ema`'s weights, the same for every
    batch of ticks of a capture (a power per value cost more than the average itself)."""
    grow = (1.0 - alpha) ** -(np.arange(size) + 1.0)
    grow.flags.writeable = False
    return grow


def _summary(r: _Region) -> tuple:
    """(start, last, tick set, peak excess power, core's first and last bin) of a region."""
    return r.start, r.last, set(r.ticks), r.peak()[1], r.lo, r.hi


class BurstDetector:
    """Streaming wideband burst detector and channeliser (see the module docstring).

    sample_rate: Hz. center_freq: Hz or None. bin_hz, tick_s: short-time spectrum resolution
    (tick_s default: 1 ms, or 512 samples when that is longer).
    seed_db / extend_db: per-tick thresholds over the noise floor; long_gain_db: a 4-tick
    mean meets them when this much lower (catches weak long bursts). hang_s: silence that
    ends a region. channel_bw_hz: fixed channel bandwidth (Hz), or None to size it from the
    burst (between min_channel_bw_hz and max_channel_bw_hz). noise_window_s, noise_chunk_s,
    noise_warmup_s: the noise floor's minimum-statistics window, chunk and start-up look-ahead.
    max_burst_s: longest region kept whole (memory bound); steady_burst_s: longest steady
    (unkeyed) region kept whole (latency bound); soft_burst_s: past this, a region
    also ends at the first silence of 12 ms (or min_gap_s if longer). min_gap_s, max_gap_s, gap_ratio: package split
    rule. continuous_s, continuous_duty: when a burst is flagged ``continuous``.
    fsk_max_sep_hz: farthest two lobes merged as one 2-FSK signal; fsk_pair_db: their largest
    power difference; ghost_db: a coincident region this much weaker is an image/splatter;
    mask_db: anything this much weaker than a keyed transmitter it overlaps is its splatter.
    edge_fraction: carriers beyond this fraction of ±sample_rate/2 are dropped (aliases).
    min_snr_db: drop bursts below this band SNR (None keeps all).
    workers: threads that finish the regions of one pass together (a live monitor's latency
    after a jammer with many images; results do not depend on it).
    """

    def __init__(self, sample_rate: float, center_freq: float | None = None, *,
                 bin_hz: float = 4000.0, tick_s: float | None = None,
                 seed_db: float = 10.0, extend_db: float = 7.0, long_gain_db: float = 3.0,
                 hang_s: float = 0.1, channel_bw_hz: float | None = None,
                 min_channel_bw_hz: float = 40e3, max_channel_bw_hz: float = 250e3,
                 noise_window_s: float = 8.0, noise_chunk_s: float = 0.016,
                 noise_warmup_s: float = 0.5, max_burst_s: float = 3.0, steady_burst_s: float = 1.0,
                 soft_burst_s: float = 1.5, min_gap_s: float = 0.010, max_gap_s: float = 0.100,
                 gap_ratio: float = 10.0, continuous_s: float = 0.5, continuous_duty: float = 0.9,
                 fsk_max_sep_hz: float = 150e3, fsk_pair_db: float = 10.0, ghost_db: float = 12.0,
                 mask_db: float = 25.0, edge_fraction: float = 0.96,
                 min_snr_db: float | None = None, workers: int = 1):
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = float(sample_rate)
        self.center_freq = center_freq
        n_fft = fft_size_for(self.sample_rate, bin_hz)
        if tick_s is None:
            # ≈ 1 ms, but at least 512 samples: the per-tick bookkeeping must stay small next
            # to the per-sample work at low sample rates
            tick_s = max(1e-3, 512 / self.sample_rate)
        frames = max(1, int(round(tick_s * self.sample_rate / n_fft)))
        self.spectrum = TickSpectrum(self.sample_rate, n_fft, frames)
        self.n_bins = n_fft
        self.tick_len = self.spectrum.tick_len
        self.tick_s = self.tick_len / self.sample_rate
        self.bin_hz = self.spectrum.bin_hz
        self._bin_freq = self.spectrum.bin_offsets_hz()
        ticks = lambda s: max(1, int(round(s / self.tick_s)))  # noqa: E731
        self.chunk_ticks = ticks(noise_chunk_s)
        self.noise = NoiseFloor(n_fft, frames, self.chunk_ticks,
                                max(1, int(round(noise_window_s / (self.chunk_ticks * self.tick_s)))),
                                max(1, int(round(noise_warmup_s / (self.chunk_ticks * self.tick_s)))))
        # lower quartile of a noise-only tick's ratios (each Gamma(frames)/frames)
        self._q25_noise = float(special.gammaincinv(frames, 0.25) / frames)
        self.seed = 10 ** (seed_db / 10)
        self.extend = 10 ** (extend_db / 10)
        self.long_gain = 10 ** (long_gain_db / 10)
        self.long_ticks = 4
        self.hang_ticks = ticks(hang_s)
        self.continuous_ticks = ticks(continuous_s)
        self.max_ticks = ticks(max_burst_s)
        self.steady_ticks = min(self.max_ticks, ticks(max(steady_burst_s, continuous_s)))
        self.soft_ticks = ticks(soft_burst_s)
        # a long region is cut at a silence that separates frames whatever their pulse
        # widths (KeeLoq's 15.6 ms guard while a button is held), not inside one frame
        self.soft_gap_ticks = ticks(max(12e-3, min_gap_s))
        self.channel_bw_hz = channel_bw_hz
        self.min_channel_bw_hz = float(min_channel_bw_hz)
        self.max_channel_bw_hz = float(min(max_channel_bw_hz, 0.8 * self.sample_rate))
        self.min_gap_s, self.max_gap_s, self.gap_ratio = min_gap_s, max_gap_s, gap_ratio
        self.continuous_s, self.continuous_duty = continuous_s, continuous_duty
        self.fsk_max_sep_hz, self.fsk_pair_db, self.ghost_db = fsk_max_sep_hz, fsk_pair_db, ghost_db
        self.mask_db = mask_db
        self.edge_fraction = edge_fraction
        self.min_snr_db = min_snr_db
        self.workers = max(1, int(workers))
        self._stats_lock = threading.Lock()  # regions may be finished by several threads
        # raw samples kept before a region's first tick: the 4-tick mean's lag and the wait
        # for a weak burst's first seed
        self.pre_ticks = self.long_ticks + 6
        #: a by-product of a long transmission starts at most this late (ticks, ≈ 50 ms)
        self.byproduct_late_ticks = max(self.pre_ticks, ticks(0.05))
        self.post_ticks = 2
        self._jump_samples = _Region.BATCH * self.tick_len
        self.stats = {"regions": 0, "unseeded": 0, "ghosts": 0, "fsk_merged": 0,
                      "empty": 0, "below_min_snr": 0, "segments": 0, "leaks": 0, "duplicates": 0,
                      "splits": 0, "forks": 0, "renewals": 0}
        # streaming state
        self._pos = 0                      # next capture sample expected
        self._hist: list[np.ndarray] = []  # raw samples [hist_start, _pos)
        self._hist_start = 0
        self._rows = np.zeros((0, n_fft), dtype=np.float32)  # ticks awaiting detection
        self._dc_ticks = np.zeros(0, dtype=np.complex128)     # their mean samples
        self._dc_state: complex | None = None
        self._row_first = 0                # tick index of _rows[0]
        self._chunks_pushed = 0
        self._floors: list[np.ndarray] = []  # floors of chunks not yet detected
        self._floor_chunk = 0              # chunk index of _floors[0]
        self._ratio_tail = np.zeros((0, n_fft), dtype=np.float32)
        self._open: list[_Region] = []
        self._wide: _Region | None = None  # open band-wide rise (a noise jammer wider than
        #                                    most of the band), tracked apart from _open
        self._rise_start: int | None = None  # first tick of the band-wide rise going on
        self._last_rise = -1
        self._next_close = -math.inf        # no open region can close before this tick
        self._next_cap = -math.inf          # ... nor reach steady_burst_s before this one
        self._closed: list[_Region] = []
        self._recent: list[tuple] = []     # finished regions still able to shadow a weak one
        # within one finishing pass: region summaries, and envelope verdicts (_keyed_over)
        self._pass_summaries: dict[int, tuple] = {}
        self._pass_keyed: list[tuple] = []
        self._emitted: collections.deque = collections.deque(maxlen=64)  # recent bursts
        self._ready: list = []             # heap of (start, seq, Burst)
        self._seq = 0
        self._band_noise = None
        self._batch_dc = np.zeros(0, dtype=np.complex128)
        self._flushed = False

    # -------------------------------------------------------------------------------------
    # public API
    def process(self, block: SampleBlock | np.ndarray) -> list[Burst]:
        """Feed the next samples (a SampleBlock, overlap allowed, or a contiguous array).

        Returns the bursts completed so far, in time order.
        """
        if self._flushed:
            raise RuntimeError("BurstDetector.process() after flush()")
        if isinstance(block, SampleBlock):
            skip = self._pos - block.start
            if skip < 0 or skip > block.samples.size:
                raise ValueError(f"sample blocks must be contiguous: expected sample {self._pos}, "
                                 f"got a block starting at {block.start}")
            new = block.samples[skip:]
        else:
            new = np.asarray(block)
        if new.size == 0:
            return []
        # the history keeps the samples: the caller's buffer may be reused for the next block
        return self._feed(np.array(new, dtype=np.complex64, copy=True))

    def _feed(self, new: np.ndarray) -> list[Burst]:
        """Process the next contiguous samples (complex64, kept as they are: not to be changed)."""
        self._hist.append(new)
        self._pos += new.size
        self._push_ticks(self.spectrum.push(new))
        self._run_detection(final=False)
        return self._release(final=False)

    def flush(self) -> list[Burst]:
        """End of stream: finish every region and return the remaining bursts in time order."""
        if self._flushed:
            return []
        self._push_ticks(self.spectrum.flush())
        self._run_detection(final=True)
        for r in self._open:
            self._closed.append(r)
        self._open = []
        if self._wide is not None:
            self._closed.append(self._wide)
            self._wide = None
        self._finalize(final=True)
        self._flushed = True
        return self._release(final=True)

    def iter_bursts(self, capture: Capture, block_size: int = DEFAULT_BLOCK) -> Iterator[Burst]:
        """Run over a whole capture (bounded memory), yielding bursts in time order."""
        for block in capture.blocks(block_size):
            x = block.samples
            if (block.start == self._pos and x.dtype == np.complex64 and x.flags.owndata
                    and x.flags.c_contiguous and not self._flushed and x.size):
                # a block the capture's reader made for this call only (not a view of an
                # array someone else holds): kept without a copy
                yield from self._feed(x)
            else:
                yield from self.process(block)
        yield from self.flush()

    # -------------------------------------------------------------------------------------
    # ticks, noise floor, detection
    def _push_ticks(self, rows: np.ndarray) -> None:
        if rows.shape[0]:
            self._rows = np.concatenate([self._rows, rows]) if self._rows.size else rows
            dc = self.spectrum.dc.astype(np.complex128)
            self._dc_ticks = np.concatenate([self._dc_ticks, dc]) if self._dc_ticks.size else dc

    def _track_dc(self, rows: np.ndarray, floors: np.ndarray, dc: np.ndarray) -> np.ndarray:
        """The receiver's DC offset at each tick: a slow running mean (≈ 1000 ticks) of the
        ticks' mean sample, fed only by ticks whose centre bin is quiet. A carrier exactly at
        the centre (a rendered or well-tuned fob) then never counts as DC offset."""
        c = self.n_bins // 2
        chunk = np.arange(rows.shape[0]) // self.chunk_ticks
        quiet = rows[:, c] < self.extend * floors[chunk, c]
        out = np.empty(dc.size, dtype=np.complex128)
        alpha = 1.0 / 1000.0
        if self._dc_state is None and quiet.any():
            self._dc_state = complex(dc[quiet][0])
        state = self._dc_state or 0j
        q = np.flatnonzero(quiet)
        if q.size:
            ema = _ema(dc[q], alpha, state)
            # each tick holds the estimate of the last quiet tick at or before it
            idx = np.searchsorted(q, np.arange(dc.size), side="right") - 1
            out[:] = np.where(idx >= 0, ema[np.maximum(idx, 0)], state)
            self._dc_state = complex(ema[-1])
        else:
            out[:] = state
        return out

    def _run_detection(self, final: bool) -> None:
        c = self.chunk_ticks
        last_tick = self._row_first + self._rows.shape[0]
        # every complete chunk's mean in one reshape (and, at the end, the partial last one)
        k0 = self._chunks_pushed
        n_full = last_tick // c - k0
        if n_full > 0:
            lo = k0 * c - self._row_first
            self.noise.push_many(self._rows[lo:lo + n_full * c].reshape(n_full, c, -1).mean(axis=1))
            self._chunks_pushed += n_full
        if final and self._chunks_pushed * c < last_tick:
            lo = self._chunks_pushed * c - self._row_first
            self.noise.push_many(self._rows[lo:].mean(axis=0, keepdims=True))
            self._chunks_pushed += 1
        new = self.noise.ready_array(final=final)
        if new.shape[0]:
            self._floors.append(new)
        if not self._floors:
            return
        all_floors = np.concatenate(self._floors) if len(self._floors) > 1 else self._floors[0]
        n_chunks = all_floors.shape[0]
        # rows are kept from the first chunk without a floor, so they start at row 0
        n_rows = min(n_chunks * c, last_tick - self._floor_chunk * c)
        rows = self._rows[:n_rows]
        floors = np.maximum(all_floors.astype(np.float32), np.float32(1e-30))
        self._band_noise = median(floors[-1]) * self.n_bins
        self._batch_dc = self._track_dc(rows, floors, self._dc_ticks[:n_rows])
        self._detect(rows, floors, self._row_first)
        self._rows = self._rows[n_rows:]
        self._dc_ticks = self._dc_ticks[n_rows:]
        self._row_first += n_rows
        self._floors = []
        self._floor_chunk += n_chunks
        self._finalize(final=False)

    def _detect(self, power: np.ndarray, floors: np.ndarray, first_tick: int) -> None:
        """Seed/extension cells of ticks ``first_tick``.. (rows of ``power``; ``floors`` per chunk)."""
        c = self.chunk_ticks
        n = power.shape[0]
        chunk_of_row = np.arange(n) // c
        inv = np.float32(1.0) / floors
        if n == floors.shape[0] * c:  # whole chunks (always, but at the very end)
            ratio = (power.reshape(-1, c, self.n_bins) * inv[:, None, :]).reshape(n, self.n_bins)
        else:
            ratio = power * inv[chunk_of_row]
        # Common-mode correction: when the whole band rises together (receiver gain/AGC, a
        # strong signal switching off and releasing compression), every bin's ratio rises;
        # the band's lower quartile (from every 4th bin: plenty for a quartile) tracks that and
        # is divided out. It only ever lowers ratios, and narrowband transmitters occupying up
        # to 3/4 of the band do not move it.
        sub = ratio[:, ::4] if self.n_bins >= 64 else ratio
        q = sub.shape[1] // 4
        common = np.partition(sub, q, axis=1)[:, q] * np.float32(1.0 / self._q25_noise)
        np.maximum(common, 1.0, out=common)
        wide = self._wide_ticks(ratio, common)
        ratio *= (1.0 / common)[:, None]
        # 4-tick (causal) mean, continued across calls through the last 3 rows kept
        k = self.long_ticks
        head = np.concatenate([self._ratio_tail, ratio[: k - 1]])
        long = np.empty_like(ratio)
        if n >= k:
            pair = ratio[1:] + ratio[:-1]
            np.add(pair[k - 2:], pair[: n - k + 1], out=long[k - 1:])
            long[k - 1:] *= np.float32(1.0 / k)
        t0 = self._ratio_tail.shape[0]
        for i in range(min(k - 1, n)):
            lo = max(0, t0 + i - k + 1)
            long[i] = head[lo:t0 + i + 1].mean(axis=0)
        self._ratio_tail = (ratio[n - (k - 1):].copy() if n >= k - 1 else
                            np.concatenate([self._ratio_tail, ratio])[-(k - 1):].copy())
        # one statistic for both thresholds: the 4-tick mean counts long_gain louder
        long *= np.float32(self.long_gain)
        stat = np.maximum(ratio, long, out=long)
        ext = stat >= self.extend
        # bridge single-bin holes (a carrier between two bins, a notch in an FSK spectrum)
        ext[:, 1:-1] |= ext[:, :-2] & ext[:, 2:]
        rows_any = np.flatnonzero(ext.any(axis=1))
        if rows_any.size == 0:
            self._close_stale(first_tick + n - 1)
            if wide is not None:
                self._track_wide(power, floors, wide, first_tick)
            return
        sub = ext[rows_any]
        pad = np.zeros((sub.shape[0], 1), dtype=bool)
        d = np.diff(np.concatenate([pad, sub, pad], axis=1).astype(np.int8), axis=1)
        r_start, b_lo = np.nonzero(d == 1)
        _, b_hi = np.nonzero(d == -1)
        seed_cs = np.concatenate([np.zeros((sub.shape[0], 1), np.int32),
                                  np.cumsum(stat[rows_any] >= self.seed, axis=1, dtype=np.int32)],
                                 axis=1)  # seed cells: only the rows with a run need them
        # regions accumulate the power with the common-mode rise taken out: a band lifted by a
        # strong carrier's skirt must not look like part of a weak neighbour
        # (float64 now, as the regions sum them: no casting in every region's per-tick sum)
        power_any = (power[rows_any] / common[rows_any, None]).astype(np.float64)
        floors64 = floors.astype(np.float64)
        # plain ints for the per-run loop (numpy scalars are slow to compare and index with)
        runs_row, runs_lo, runs_hi = r_start.tolist(), b_lo.tolist(), (b_hi - 1).tolist()
        rows_list = rows_any.tolist()
        i = 0
        n_runs = len(runs_row)
        while i < n_runs:
            sub_row = runs_row[i]
            row = rows_list[sub_row]
            t = first_tick + row
            if t >= self._next_close:  # (its early exit, without the call: once per tick)
                self._close_stale(t)
            floor_row = floors64[row // c]
            cs_row = seed_cs[sub_row]
            power_row = power_any[sub_row]
            stat_row = stat[row]
            j = i
            while j < n_runs and runs_row[j] == sub_row:
                self._attach(t, runs_lo[j], runs_hi[j], cs_row, power_row, floor_row, stat_row)
                j += 1
            if self._open and t >= self._next_cap:  # (as for _close_stale)
                self._cap(t)
            i = j
        self._close_stale(first_tick + n - 1)
        if wide is not None:
            self._track_wide(power, floors, wide, first_tick)

    #: a band-wide rise this large (linear, 20 dB) counts even with no quiet edge left: an
    #: 8-bit receiver under a strong noise jammer is lifted everywhere by its clipping
    WIDE_RISE = 100.0
    #: ... and no bin stands more than this (linear, 20 dB) over the band's lifted quartile
    WIDE_FLAT = 100.0

    def _wide_ticks(self, ratio: np.ndarray, common: np.ndarray):
        """(ticks in a band-wide rise, ticks with a seed of one) or None (see _track_wide)."""
        on = common >= self.extend
        rows = np.flatnonzero(on)
        if rows.size:
            # per-bin tests only on the ticks whose band rose at all (most have not): an edge
            # still at the floor, and flat (no one channel stands far over the lifted band: a
            # carrier clipping the receiver lifts it too, but its own region holds it)
            sub, c = ratio[rows], common[rows]
            k5 = max(0, ratio.shape[1] // 20)
            edge = np.partition(sub, k5, axis=1)[:, k5] < self.extend
            flat = sub.max(axis=1) <= c * self.WIDE_FLAT
            on[rows] = (edge | (c >= self.WIDE_RISE)) & flat
        if self._wide is None and not on.any():
            # a quiet batch: end the rise as a tick by tick pass would have
            last = self._row_first + on.size - 1
            if self._rise_start is not None and last - self._last_rise > self.hang_ticks:
                self._rise_start = None
            return None
        return on, common >= self.seed

    def _track_wide(self, power: np.ndarray, floors: np.ndarray, wide, first_tick: int) -> None:
        """A band-wide rise: a noise jammer covering most of a narrow band (200 kHz of noise
        at 250 ksps) lifts the band's lower quartile, and the common-mode correction would
        divide it out of every bin. While the quartile stands ``extend_db`` over the floor
        (``seed_db`` at least once) and the band still has a quiet edge somewhere (its 5 % of
        quietest bins at the floor: a receiver's gain step lifts every bin alike) or the rise
        is ``WIDE_RISE`` or more (a clipping receiver lifted everywhere), the raised bins form
        one region of their own, tracked apart from the per-channel ones, cut like a steady
        region and finished like any other. The rise must be flat (no bin ``WIDE_FLAT`` over
        the lifted quartile: a strong carrier that clips the receiver lifts the band too, but
        stands far over it in its own region), and a region starts only at the rise's onset.
        All of it is judged tick by tick, so results do not depend on block sizes."""
        on, seeds = wide
        c = self.chunk_ticks
        for row in range(on.size):
            t = first_tick + row
            w = self._wide
            if on[row]:
                if self._rise_start is None:
                    self._rise_start = t
                fl = floors[row // c]
                hot = np.flatnonzero(power[row] >= self.extend * fl)
                if w is None:
                    if not seeds[row] or hot.size == 0 or t - self._rise_start > self.pre_ticks:
                        continue
                    w = self._wide = _Region(int(hot[0]), int(hot[-1]), t, self.n_bins)
                    w.wide = True
                    w.dc = complex(self._batch_dc[row]) if self._batch_dc.size else 0j
                    self.stats["regions"] += 1
                w.seeded |= bool(seeds[row])
                if hot.size:
                    w.add(t, int(hot[0]), int(hot[-1]), power[row], fl)
                if t - w.start + 1 >= self.steady_ticks:
                    w.cont_after = True
                    self._closed.append(w)
                    self._wide = _Region(w.lo, w.hi, t + 1, self.n_bins, cont_before=True)
                    self._wide.dc, self._wide.wide = w.dc, True
                    self.stats["segments"] += 1
            else:
                if self._rise_start is not None and t - self._last_rise > self.hang_ticks:
                    self._rise_start = None
                if w is not None and t - w.last > self.hang_ticks:
                    if w.ticks:
                        self._closed.append(w)
                    self._wide = None
            if on[row]:
                self._last_rise = t

    def _attach(self, t: int, lo: int, hi: int, seed_cs: np.ndarray, power: np.ndarray,
                floor: np.ndarray, stat: np.ndarray) -> None:
        """Give the bins lo..hi of tick t to the open regions they belong to.

        The run goes to the region whose core (± 2 bins) holds its strongest bin; that region
        takes the part of the run around its core, and what is left on either side is matched
        again (bins no region claims start a new one, if they hold a seed). So a run that
        joins a strong carrier's skirt to a weak fob beside it still feeds both. Regions whose
        cores come to overlap are one transmitter and merge.
        """
        tol = 2
        # the common case: one region around the run and no other near it (a lone open
        # region is taken as it is: unless it is near, the test below fails as well)
        near = self._open if len(self._open) == 1 else \
            [r for r in self._open if r.lo - tol <= hi and lo <= r.hi + tol]
        if len(near) == 1:
            r = near[0]
            if r.lo - tol <= lo and hi <= r.hi + tol:
                if not r.seeded:
                    r.seeded = bool(seed_cs[hi + 1] - seed_cs[lo] > 0)
                r.add(t, lo, hi, power, floor, self.soft_gap_ticks)
                if r.jump is not None:
                    self._split(r)
                elif r.fork is not None:
                    self._fork(r)
                elif r.renew:
                    self._renew(r)
                return
        todo = [(lo, hi)]
        while todo:
            lo, hi = todo.pop()
            # the regions whose core holds the run's strongest bin, nearest core centre first:
            # a run belongs where its power is, not wherever its skirt reaches
            k = lo + int(np.argmax(stat[lo:hi + 1]))
            cands = [(abs(r.lo + r.hi - 2 * k), i, r) for i, r in enumerate(self._open)
                     if r.lo - tol <= k <= r.hi + tol]
            cands.sort(key=lambda c: c[:2])
            cands = [(0, 0, 0, r) for _, _, r in cands]
            best = None
            for _, _, _, r in cands:
                a, b = max(lo, r.lo - tol), min(hi, r.hi + tol)
                # never into another region's core: a neighbour's bins stay its own, so no
                # core can creep across a weaker neighbour's (or a jammer's skirt) tick by tick
                for o in self._open:
                    if o is not r:
                        if o.hi < r.lo:
                            a = max(a, o.hi + 1)
                        elif o.lo > r.hi:
                            b = min(b, o.lo - 1)
                if a <= b:
                    best = r
                    break
            if best is None:
                if not seed_cs[hi + 1] - seed_cs[lo] > 0:
                    # extension cells alone do not start a region: noise crosses the lower
                    # threshold now and then, a transmission soon gives a seed (the raw
                    # samples kept before a region's first tick cover the wait)
                    continue
                best = self._new_region(lo, hi, t)
                a, b = lo, hi
            if a > lo:
                todo.append((lo, a - 1))
            if b < hi:
                todo.append((b + 1, hi))
            lo, hi = a, b
            best.seeded |= bool(seed_cs[hi + 1] - seed_cs[lo] > 0)
            moved = best.add(t, lo, hi, power, floor, self.soft_gap_ticks)
            if best.jump is not None:
                best, moved = self._split(best), True
            elif best.fork is not None:
                moved = self._fork(best) or moved
            elif best.renew:
                best, moved = self._renew(best), True
            if not moved or len(self._open) < 2:
                continue
            # cores sharing most of their bins: one transmitter first seen as two runs (not
            # while what came after a region's package gap is being judged: a wide newcomer
            # lifts its bins over the core's edge at once, and merged, what was quiet in the
            # gap could not be told apart from what was not)
            if best.pending:
                continue
            for other in [r for r in self._open if r is not best and not r.pending
                          and r.overlap(best.lo, best.hi, 0)
                          >= 0.5 * min(r.hi - r.lo, best.hi - best.lo) + 1]:
                keep, gone = (best, other) if best.start <= other.start else (other, best)
                keep.absorb(gone)
                self._open.remove(gone)
                best = keep

    #: a region split where its level jumps held weak energy this wide (Hz) before: a skirt,
    #: an image, a clipping product, noise; a narrow line is a transmitter's own carrier,
    #: leaking before it keys (a PLL remote starting up, a fob beside the receiver)
    SKIRT_HZ = 20e3

    def _split(self, r: _Region) -> _Region:
        """End open region ``r`` before its level jumped (``_Region.jump``) and go on with what
        came after as a region of its own: another transmitter began in a region that held only
        weak energy spread over ``SKIRT_HZ`` or more, ``ghost_db`` under another open region
        (a fob inside a sensor's skirt, a jammer inside a fob's). Returns the region now open on
        those bins. Weak energy of its own (a relay amplifier's noise, with the fob it
        re-radiates on top) and a band-wide rise (a noise jammer) are left whole."""
        if (r.wide or r.jump_bins * self.bin_hz < self.SKIRT_HZ
                or not self._byproduct_before_jump(r)):
            r.jump = None
            return r
        new = r.split(self.n_bins)
        self._open.remove(r)
        self._closed.append(r)
        self._open_cut(new, "splits")
        return new

    def _renew(self, r: _Region) -> _Region:
        """End open region ``r`` at its last package gap and go on with what came after it as
        a region of its own: another, much wider transmitter that began over its bins within
        ``hang_s`` (``_Region.renew``). The regions that began with ``r`` and went quiet with
        it (its lobes, skirt and images: one transmitter) end there too, and what came after
        the gap in them goes on as regions of their own: else the oldest of them would take
        the newcomer's regions in as it merged with them, and the transmitter's package with
        them (a fob's press 80 ms before a noise jammer over it was one 3 s burst with the
        jammer: development RollJam sample seed 418). Returns the region now open on ``r``'s
        bins."""
        quiet_from, start, out = r.gap[3], r.start, r
        for o in list(self._open):
            if o.wide or abs(o.start - start) > 2:
                continue
            if o.gap is not None and abs(o.gap[3] - quiet_from) <= 2:
                new = o.split(self.n_bins, o.gap[:3])
                new.onset = None  # a transmitter of its own, not a jump inside this one
                self._open.remove(o)
                self._closed.append(o)
                self._open_cut(new, "renewals")
                if o is r:
                    out = new
            elif abs(o.last - quiet_from) <= 2:  # still quiet: it ended with r
                self._open.remove(o)
                self._closed.append(o)
        return out

    def _open_cut(self, new: _Region, stat: str) -> None:
        """Track ``new``, cut off an open region (split, fork or renewal), with the receiver's
        DC offset at its start, counted in ``stats[stat]``."""
        i = new.start - self._row_first
        if 0 <= i < self._batch_dc.size:
            new.dc = complex(self._batch_dc[i])
        self._open.append(new)
        self._next_close = -math.inf
        self.stats[stat] += 1

    def _fork(self, r: _Region) -> bool:
        """Give another transmitter that began beside open region ``r``'s peak
        (``_Region.fork``) a region of its own; True when it did."""
        k_new, k_old, _ = r.fork
        # nearer than half the narrowest channel, a channel of its own would hold the other
        # transmitter all the same (a fob 14 kHz from a replayer's LO leak is OOK beside a
        # carrier, judged in one channel)
        if r.wide or abs(k_new - k_old) * self.bin_hz < 0.5 * self.min_channel_bw_hz:
            r.fork = None
            return False
        self._open_cut(r.fork_off(self.n_bins), "forks")
        return True

    def _byproduct_before_jump(self, r: _Region) -> bool:
        """True when what region ``r`` held before its jump lies ``ghost_db`` or more under
        another open region: the skirt, image or clipping product of that transmitter."""
        spec0, floor0, n0 = r.jump
        weak = float(np.max(spec0[r.lo:r.hi + 1] - floor0[r.lo:r.hi + 1])) / max(n0, 1)
        need = weak * 10 ** (self.ghost_db / 10)
        return any(o is not r and not o.wide and o.peak()[1] >= need for o in self._open)

    def _new_region(self, lo: int, hi: int, t: int) -> _Region:
        r = _Region(lo, hi, t, self.n_bins)
        r.dc = complex(self._batch_dc[t - self._row_first]) if self._batch_dc.size else 0j
        self._open.append(r)
        self._next_close = -math.inf
        self.stats["regions"] += 1
        return r

    def _close_stale(self, t: int) -> None:
        # called for every active tick: skip the scan until the earliest tick at which an
        # open region could close (a region's `last` only grows, so that bound stays valid
        # until a region is added)
        if t < self._next_close:
            return
        keep = []
        ended = []
        nxt = math.inf
        for r in self._open:
            quiet = t - r.last
            if quiet > self.hang_ticks or (t - r.start >= self.soft_ticks and quiet >= self.soft_gap_ticks):
                self._closed.append(r)
                ended.append(r)
            else:
                keep.append(r)
                nxt = min(nxt, r.last + self.hang_ticks + 1,
                          max(r.start + self.soft_ticks, r.last + self.soft_gap_ticks))
        self._open = keep
        self._next_close = nxt
        for r in ended:
            self._end_byproducts(r, t)

    def _end_byproducts(self, r: _Region, t: int) -> None:
        """A long transmission that ends ends the steady regions that began with it and are
        ``ghost_db`` weaker (its images and skirt, or their segments after a cut) at ``t``.

        Such a region can outlive it: a clipping jammer compresses the receiver's DC line, the
        centre bin's floor follows it down, and once the jammer stops the line stands a few dB
        over that floor for as long as the floor's window (8 s), within a by-product's bins.
        Held open, that region kept every burst after its start (the jammer's last segment
        among them) from leaving until its next steady cut, up to a second later."""
        if r.wide or not (r.cont_before or r.last - r.start + 1 >= self.continuous_ticks):
            return
        power = r.peak()[1] * 10 ** (-self.ghost_db / 10)
        for o in list(self._open):
            if o.wide or not r.start - 2 <= o.start <= r.start + self.byproduct_late_ticks:
                continue
            if o.peak()[1] > power:
                continue
            if o.steady is None:
                frames = self._onset_power(o.start)
                o.steady = frames is not None and self._steady(frames, o)
            if o.steady:
                # ended, not cut: a continuation is seeded by its predecessor and would hold
                # the horizon in its place; what is real after t seeds a region of its own
                self._open.remove(o)
                self._closed.append(o)
                self._next_close = -math.inf

    def _cap(self, t: int) -> None:
        """Cut open regions into segments: any at ``max_burst_s`` (memory), a steady one (a
        carrier, a jammer, an amplifier's noise: not keyed over its onset) already at
        ``steady_burst_s``, so that finishing it costs a bounded amount at a time and its
        start does not hold back the bursts after it (they leave in start order): a jammer's
        alert comes within a second of its end, and a line that outlives it is no wall."""
        # called for every active tick: the earliest start of an open region only grows (new
        # regions and segments start now, merged ones keep the earlier start), so the last
        # bound computed stays a valid one until it is reached
        if not self._open or t < self._next_cap:
            return
        self._next_cap = min(r.start for r in self._open) + self.steady_ticks - 1
        if t < self._next_cap:
            return
        for r in list(self._open):
            length = t - r.start + 1
            if length < self.steady_ticks:
                continue
            if length < self.max_ticks:
                if r.steady is None:
                    frames = self._onset_power(r.start)
                    r.steady = frames is not None and self._steady(frames, r)
                if not r.steady:
                    continue
            self._cut(r, t)

    def _cut(self, r: _Region, t: int) -> None:
        """End open region ``r`` at tick ``t``; it goes on as a new segment from ``t + 1``."""
        r.cont_after = True
        self._open.remove(r)
        self._closed.append(r)
        nxt = _Region(r.lo, r.hi, t + 1, self.n_bins, cont_before=True)
        nxt.dc = r.dc
        nxt.steady = r.steady
        nxt.cut_bins = (r.lo, r.hi)
        self._open.append(nxt)
        self._next_close = -math.inf
        self.stats["segments"] += 1

    # -------------------------------------------------------------------------------------
    # finishing regions
    def _finalize(self, final: bool) -> None:
        now = self._row_first  # ticks before this one have been detected
        ready = [r for r in self._closed
                 if r.ticks and (final or now >= r.last + self.hang_ticks + 4)]
        empty = [r for r in self._closed if not r.ticks]
        self.stats["empty"] += len(empty)
        if not ready:
            self._closed = [r for r in self._closed if r.ticks]
            return
        groups, consumed = self._group(ready)
        self._closed = [r for r in self._closed if r.ticks and id(r) not in consumed]
        self._pass_summaries, self._pass_keyed = {}, []
        jobs = []  # (group, band-wide, what may stand behind it), in group order
        # every group of this pass can stand behind every other, whichever is finished first:
        # a loud keyed transmitter's splatter on both sides of it (two coincident regions that
        # pair like 2-FSK lobes) sorts before it by frequency
        self._recent.extend(self._summary_of(r) for g in groups for r in g if not r.wide)
        for g in groups:
            shadow = self._shadowed(g)
            if shadow:
                self.stats["ghosts"] += 1
                continue
            wide = any(r.wide for r in g)
            if any(self._short_rise(r) for r in g):
                self.stats["ghosts"] += 1
                continue
            jobs.append((g, wide, self._others(g)))
        # the groups' channels are independent: they may be finished side by side
        finished = ordered_map(lambda job: self._bursts_of(job[0], job[2]), jobs, self.workers)
        for (g, wide, _), bursts in zip(jobs, finished):
            jumped = any(r.jumped for r in g)
            for burst in bursts:
                burst.band_wide = wide
                burst.after_jump = jumped
                if self._duplicate(burst):
                    self.stats["duplicates"] += 1
                    continue
                heapq.heappush(self._ready, (burst.start, self._seq, burst))
                self._seq += 1

    def _count(self, key: str) -> None:
        """Count a dropped region or burst in ``stats`` (safe from finishing threads)."""
        with self._stats_lock:
            self.stats[key] += 1

    def _duplicate(self, burst: Burst) -> bool:
        """True when an earlier burst is the same transmission: one's carrier inside the other's
        channel for most of the shorter one's time. One signal split across two neighbouring
        regions gives the same package twice; the longer copy is kept (replacing the earlier
        one if it has not been handed out yet), and so is a copy ``ghost_db`` stronger than all
        the others: the transmission in its own channel, where they are its splatter seen
        through a wide channel around it (a clipping fob's image region ends with it and may be
        finished first). Remembers ``burst`` when it is kept."""
        if burst.band_wide:
            return False  # the whole band lifted: no copy of anything in it
        dups = [old for old in self._emitted
                if old.keyed_on_steady == burst.keyed_on_steady  # pulses on a line: not the line
                and not old.band_wide
                # a transmitter that began inside a region already open is not what began it
                and not ((old.after_jump or burst.after_jump)
                         and abs(old.start - burst.start) > self._jump_samples)
                and min(old.stop, burst.stop) - max(old.start, burst.start)
                >= 0.5 * min(old.stop - old.start, burst.stop - burst.start)
                # one carrier inside the other's channel (a transmitter 30 dB over full scale
                # and its −3F clipping product 77 kHz away, each in its own channel, are two
                # bursts: fresh benign soak seed 109067 lost the owner's frames to the copy
                # rule, as the product's 160 kHz channel made half of it reach them)
                and (abs(burst.offset_hz - old.channel_offset_hz) <= 0.5 * old.channel_bw_hz
                     or abs(old.offset_hz - burst.channel_offset_hz) <= 0.5 * burst.channel_bw_hz)]
        if dups:
            held = {id(e[2]) for e in self._ready}
            # longer by more than a tick, the detector's time step: copies of one package
            # end within a tick of each other whichever region finishes first (a clipping
            # clone's −3F product region, 12 samples longer and 5.8 dB weaker, took the
            # clone's place: fresh held-out clone seed 1114)
            longer = all(burst.stop - burst.start > d.stop - d.start + self.tick_len
                         for d in dups)
            stronger = all(burst.rssi_db >= d.rssi_db + self.ghost_db for d in dups)
            # a copy whose carrier sits at its channel's edge is the other seen through that
            # channel's skirt, where the other's channel is centred on it (fresh benign soak
            # seed 148065: a passer-by's region, kept open by a doorbell's image, showed the
            # doorbell's ring at the edge of its channel and took its place)
            centred = (self._centred(burst, self.CENTRED) and
                       not any(self._centred(d, self.EDGE) for d in dups))
            if not ((longer or stronger or centred) and all(id(d) in held for d in dups)):
                return True
            # the new copy is the whole transmission, or the transmission itself where the
            # others are its splatter, and no part of them has been handed out
            gone = {id(d) for d in dups}
            self._ready = [e for e in self._ready if id(e[2]) not in gone]
            heapq.heapify(self._ready)
            self._emitted = collections.deque((e for e in self._emitted if id(e) not in gone),
                                              maxlen=self._emitted.maxlen)
        self._emitted.append(burst)
        return False

    #: a burst's carrier within this fraction of its channel's width from the channel's centre
    #: is centred in it; beyond EDGE it is at the channel's edge
    CENTRED, EDGE = 0.25, 0.4

    @staticmethod
    def _centred(burst: Burst, within: float) -> bool:
        return abs(burst.offset_hz - burst.channel_offset_hz) <= within * burst.channel_bw_hz

    def _shadowed(self, group: list[_Region]) -> bool:
        """True when the group is a by-product of a much stronger keyed transmitter.

        Clipping, intermodulation and I/Q imbalance of a strong keyed signal put weak energy
        elsewhere in the band while its pulses are on. Such a region lies (mostly) inside a
        region ``ghost_db`` stronger whose envelope is keyed, and either follows that envelope
        pulse by pulse or is ``mask_db`` weaker still (beyond what an 8-bit receiver can be
        trusted with next to that signal). A fob under a jammer also lies inside a much
        stronger region, but a jammer's carrier is steady, not keyed, so the fob stays.
        """
        now = self._row_first
        horizon = now - self.max_ticks - self.hang_ticks - 8
        self._recent = [e for e in self._recent if e[1] >= horizon]
        ticks = set().union(*(r.ticks for r in group))
        start, last = min(r.start for r in group), max(r.last for r in group)
        k, power = max((r.peak() for r in group), key=lambda kp: kp[1])
        others = self._others(group)
        power_frames = None
        a = max(self._hist_start, (start - self.pre_ticks) * self.tick_len)
        b = min(self._pos, (last + 1 + self.post_ticks) * self.tick_len)
        for s_start, s_last, s_ticks, s_power, s_lo, s_hi in others:
            if s_power < power * 10 ** (self.ghost_db / 10) or s_last < start or s_start > last:
                continue
            inside = len(ticks & s_ticks) / len(ticks)
            if inside < 0.5:
                continue
            masks = s_power >= power * 10 ** (self.mask_db / 10)
            keyed = self._keyed_over(s_start, s_lo, s_hi, a, b) if masks else None
            if keyed is None:
                if power_frames is None:
                    power_frames = self._frame_power(self._history_parts(a, b))
                    if power_frames.shape[0] < 4:
                        return False
                env_s = power_frames[:, s_lo:s_hi + 1].sum(axis=1)
                mean_s = env_s.mean()
                keyed = bool(mean_s > 0 and env_s.std() >= 0.3 * mean_s)
                self._pass_keyed.append((s_start, s_lo, s_hi, a, b, keyed))
            if not keyed:
                continue  # a steady carrier: no keying splatter, whatever is beside it is real
            if masks:
                return True
            if inside < 0.75:
                continue
            env_w = power_frames[:, max(0, k - 1):k + 2].sum(axis=1)
            if env_w.std() > 0 and np.corrcoef(env_w, env_s)[0, 1] >= 0.4:
                return True
        return False

    def _summary_of(self, r: _Region) -> tuple:
        """:func:`_summary` of ``r``, made once per finishing pass (regions do not change
        while it runs, and every group and burst of the pass compares against them all)."""
        out = self._pass_summaries.get(id(r))
        if out is None:
            out = self._pass_summaries[id(r)] = _summary(r)
        return out

    def _others(self, group: list[_Region]) -> list[tuple]:
        """Summaries of every tracked region outside ``group`` (band-wide rises excepted) and
        of the recently finished ones: what may stand behind a weak region."""
        members = {id(r) for r in group}
        return [self._summary_of(r) for r in self._open + self._closed
                if id(r) not in members and r.ticks and not r.wide] + self._recent

    def _keyed_over(self, s_start: int, s_lo: int, s_hi: int, a: int, b: int) -> bool | None:
        """Whether region ``s`` was found keyed earlier in this pass over nearly the same
        samples [a, b) (≥ 90 % of them): a jammer's images all end with it, and measuring its
        envelope again for each of a dozen of them cost a second of CPU at its end."""
        for k_start, k_lo, k_hi, ka, kb, keyed in self._pass_keyed:
            if (k_start, k_lo, k_hi) == (s_start, s_lo, s_hi) and \
                    min(b, kb) - max(a, ka) >= 0.9 * (b - a):
                return keyed
        return None

    #: most FFT frames an envelope comparison looks at (evenly spread over a long region)
    MAX_ENVELOPE_FRAMES = 4096

    def _frame_power(self, raw: np.ndarray | list[np.ndarray]) -> np.ndarray:
        """Hann-windowed power spectrum of FFT frames of ``raw`` (frames × bins, centred): every
        frame, or ``MAX_ENVELOPE_FRAMES`` spread over a long stretch (bounded cost)."""
        return self.spectrum.frame_power(raw, self.MAX_ENVELOPE_FRAMES)

    def _group(self, ready: list[_Region]) -> tuple[list[list[_Region]], set[int]]:
        """Group coincident regions: FSK lobes merge, images and splatter are dropped.

        Returns the groups (strongest or first region first) and the ids of every region used.
        """
        pool = [r for r in self._closed if r.ticks]
        onsets: dict[int, np.ndarray | None] = {}
        used = self._byproducts(ready, pool, onsets)
        groups: list[list[_Region]] = []
        for r in sorted(ready, key=lambda r: (r.start, r.lo)):
            if id(r) in used:
                continue
            used.add(id(r))
            group = [r]
            kr, pr = r.peak()
            # a short band-wide rise is dropped alone: it neither takes the clipping burst's own
            # region as its lobe or ghost nor is taken by it (fresh benign soak seed 139005: the
            # owner's press 23 dB over full scale and the rise it caused began and ended
            # together; the rise, 25 dB stronger by its mean, took the press as its ghost and
            # both were dropped, and its −3F product decoded 111 kHz away: a "clone")
            for o in () if self._short_rise(r) else pool:
                if id(o) in used or abs(o.start - r.start) > 2 or abs(o.last - r.last) > 2 \
                        or self._short_rise(o):
                    continue
                ko, po = o.peak()
                sep = abs(self._bin_freq[ko] - self._bin_freq[kr])
                rel = 10 * math.log10(max(po, 1e-30) / max(pr, 1e-30))
                mirror = abs(self._bin_freq[ko] + self._bin_freq[kr]) <= 2 * self.bin_hz
                if sep <= self.fsk_max_sep_hz and abs(rel) <= self.fsk_pair_db:
                    group.append(o)
                    used.add(id(o))
                    self.stats["fsk_merged"] += 1
                elif ((sep <= self.fsk_max_sep_hz or mirror) and abs(rel) >= self.ghost_db
                      and not self._keyed_beside_long(r if rel < 0 else o, o if rel < 0 else r,
                                                      onsets)):
                    used.add(id(o))
                    self.stats["ghosts"] += 1
                    if rel > 0:
                        # r (with any lobe merged into it) was the ghost of o: a fob beside the
                        # receiver, near its centre, whose clipping products far below it began
                        # a tick-sort earlier (fresh benign soak seed 13011: the fob at −20 kHz,
                        # 35 dB over a product pair at −140/−108 kHz, was dropped as theirs)
                        self.stats["ghosts"] += len(group) - 1
                        group = [o]
                        kr, pr = ko, po
            groups.append(group)
        return groups, used

    def _short_rise(self, r: _Region) -> bool:
        """A band-wide rise shorter than a continuous transmission and not cut from one: a
        strong burst clipping the receiver, no transmitter (and no jammer) of its own."""
        return (r.wide and not (r.cont_before or r.cont_after)
                and r.last - r.start + 1 < self.continuous_ticks)

    def _keyed_beside_long(self, strong: _Region, weak: _Region,
                           onsets: dict[int, np.ndarray | None]) -> bool:
        """True when ``weak`` coincides with a long ``strong`` region but is keyed at its
        onset: a strong fob's clipping products can join a jammer that follows it into one
        long region, and the fob's own region then starts and ends with it; it is not that
        region's image. (Short coincident regions are judged as before: lobes and images of
        one keyed transmitter.)"""
        if strong.last - strong.start + 1 < self.continuous_ticks:
            return False
        if strong.start not in onsets:
            onsets[strong.start] = self._onset_power(strong.start)
        frames = onsets[strong.start]
        return frames is not None and not self._steady(frames, weak)

    def _byproducts(self, ready: list[_Region], pool: list[_Region],
                    onsets: dict[int, np.ndarray | None]) -> set[int]:
        """Ids of regions that are by-products of a long, much stronger, steady transmission
        (a CW or noise jammer): its images, intermodulation products and noise skirt, anywhere
        in the band. Finishing each would cost as much as the jammer itself, for nothing.

        Such a region is ``ghost_db`` or more weaker, starts with the transmission (up to
        ``byproduct_late_ticks`` later: being weak, it takes longer to reach a seed), ends with
        it (within 2 ticks; or both are cut into segments there) and, like it, is steady over
        its first ``BYPRODUCT_ONSET_S``. A fob is keyed: a fob under a jammer, a fob whose
        region got joined to a jammer's (it ended just before the jammer began) or a fob a
        reactive jammer started on is never taken for a by-product, nor is a region whose
        strong partner began with a keyed transmission.
        """
        used: set[int] = set()
        if not ready:
            return used
        ghost = 10 ** (self.ghost_db / 10)
        refs = sorted((r for r in pool if r.last - r.start + 1 >= self.continuous_ticks
                       and not r.wide), key=lambda r: -r.peak()[1])
        for big in refs:
            if id(big) in used:
                continue
            p_big = big.peak()[1]
            cands = [o for o in pool if o is not big and id(o) not in used and not o.wide
                     and o.peak()[1] * ghost <= p_big
                     and 0 <= o.start - big.start <= self.byproduct_late_ticks
                     and o.cont_after == big.cont_after
                     # an end together, or cuts at one length (segments of the same span)
                     and abs((o.last - o.start) - (big.last - big.start) if big.cont_after
                             else o.last - big.last) <= 2]
            if not cands:
                continue
            frames = onsets.get(big.start)
            if big.start not in onsets:
                frames = onsets[big.start] = self._onset_power(big.start)
            if frames is None or not self._steady(frames, big):
                continue
            for o in cands:
                if self._steady(frames, o):
                    used.add(id(o))
                    self.stats["ghosts"] += 1
        return used

    #: the stretch (s) over which a by-product and its transmission must both be steady
    BYPRODUCT_ONSET_S = 0.25

    def _onset_power(self, start: int) -> np.ndarray | None:
        """Frame power spectra (frames × bins) of ``BYPRODUCT_ONSET_S`` from tick ``start``, or
        None when those samples are no longer held."""
        a = start * self.tick_len
        b = min(self._pos, a + int(self.BYPRODUCT_ONSET_S * self.sample_rate))
        if a < self._hist_start or b - a < 8 * self.n_bins:
            return None
        return self._frame_power(self._history_parts(a, b))

    #: a keyed envelope's 90th percentile stands this much over its 10th (dB); a steady line,
    #: however close to the noise, fluctuates less
    KEYED_SPREAD_DB = 6.0

    def _steady(self, frames: np.ndarray, r: _Region) -> bool:
        """The region's bins hold a steady envelope, not a keyed one: over the onset frames,
        the 90th percentile of their power is within ``KEYED_SPREAD_DB`` of the 10th (a keyed
        fob spends a good part of the time off, at the noise)."""
        env = frames[:, r.lo:r.hi + 1].sum(axis=1)
        lo, hi = np.percentile(env, [10, 90])
        return lo > 0 and hi <= lo * 10 ** (self.KEYED_SPREAD_DB / 10)

    def _bursts_of(self, group: list[_Region], others: list[tuple]) -> list[Burst]:
        """The bursts of a finished group; ``others``: :meth:`_others` of the group, taken
        when it was finished (this may run in a worker thread: nothing here changes the
        detector but its counts)."""
        if not all(r.seeded for r in group):
            self._count("unseeded")
            return []
        base = group[0]
        lobes = None
        if len(group) > 1:
            ks = sorted(r.peak()[0] for r in group[:2])
            lobes = (float(self._bin_freq[ks[0]]), float(self._bin_freq[ks[1]]))
        # a region split off at a jump: its channel is what jumped, from its peak in the core
        # out to 10 dB under it on either side (the weak energy it began inside goes on in its
        # bins and lifts a keyed carrier's sidebands to within 20 dB; they, and the bins
        # beside the core, may reach the neighbour it came from)
        onset = len(group) == 1 and base.onset is not None
        ex = base.onset if onset else np.maximum.reduce([r.excess() for r in group])
        lo = max(0, min(r.lo for r in group) - 3)
        hi = min(self.n_bins - 1, max(r.hi for r in group) + 3)
        start, last = min(r.start for r in group), max(r.last for r in group)
        # a neighbour sending at the same time, not far under this group: its energy is in
        # this group's rows too, so the occupied band, and the channel, stop short of its core
        # (a fob 30 kHz from a sensor 3 dB under it read the sensor's carrier in a channel
        # that reached it, and was dropped as its copy)
        near_lo, near_hi = self._neighbour_cores(group, others, start, last)
        lo, hi = max(lo, near_lo + 1), min(hi, near_hi - 1)
        cont_before = any(r.cont_before for r in group)
        cont_after = any(r.cont_after for r in group)
        if onset:
            kp = base.lo + int(np.argmax(ex[base.lo:base.hi + 1]))
            above = ex[lo:hi + 1] >= 0.1 * ex[kp]
            occ_lo, occ_hi = kp, kp
            while occ_lo > lo and above[occ_lo - 1 - lo]:
                occ_lo -= 1
            while occ_hi < hi and above[occ_hi + 1 - lo]:
                occ_hi += 1
        else:
            kp = lo + int(np.argmax(ex[lo:hi + 1]))
            occ = np.flatnonzero(ex[lo:hi + 1] >= ex[kp] * 0.01) + lo
            occ_lo, occ_hi = int(occ[0]), int(occ[-1])
        bandwidth = (occ_hi - occ_lo + 1) * self.bin_hz
        centre = 0.5 * (self._bin_freq[occ_lo] + self._bin_freq[occ_hi])
        if self.channel_bw_hz:
            bw = float(self.channel_bw_hz)
        else:
            bw = float(np.clip(bandwidth + 4 * self.bin_hz, self.min_channel_bw_hz,
                               self.max_channel_bw_hz))
            room = min(centre - self._bin_freq[near_lo] if near_lo >= 0 else math.inf,
                       self._bin_freq[near_hi] - centre if near_hi < self.n_bins else math.inf)
            bw = float(max(min(bw, 2 * room), self.min_channel_bw_hz))
        a = max(self._hist_start, (start - self.pre_ticks) * self.tick_len)
        b = min(self._pos, (last + 1 + self.post_ticks) * self.tick_len)
        # noise: the floor around the channel, through the channel filter's noise bandwidth
        floor = base.floor / max(len(base.ticks), 1)
        in_ch = np.abs(self._bin_freq - centre) <= 0.5 * bw
        per_bin = float(np.mean(floor[in_ch])) if in_ch.any() else median(floor)
        # a file of digital silence has no noise at all; −90 dBFS keeps levels finite
        per_bin = max(per_bin, MIN_NOISE / self.n_bins)
        noise_ch = per_bin * self.n_bins * channel_noise_bandwidth(bw) / self.sample_rate
        band_noise = max(median(floor) * self.n_bins, MIN_NOISE)
        probe = int(self.LEAK_PROBE_S * self.sample_rate)
        if (bw >= self.NO_FOB_CHANNEL_HZ and last - start + 1 >= self.steady_ticks
                and b - a > 2 * probe
                and self._leak_probe(group, others, a, a + probe, centre, bw, bandwidth,
                                     noise_ch, band_noise, lobes)):
            self._count("leaks")
            return []
        # the receiver's DC offset would sit in any channel near the centre as a steady
        # carrier at 0 Hz: remove it first
        y, rate, step = extract_channel(self._history_parts(a, b), self.sample_rate, centre, bw,
                                        dc=base.dc)
        act = carrier_activity(y, rate, noise_ch)
        if act is None:
            self._count("empty")
            return []
        out = []
        # a long region may be a steady line (a jammer's intermodulation spur) or a wide
        # noise (a relay amplifier's) with a fob keyed on top of it: those pulses are bursts
        # of their own, measured against what is under them as their floor. In a wide region
        # a narrow line standing 3 dB over the region's mean excess (a short fob diluted by a
        # long noise: an amplifier's noise is flat within a dB or so) gets a narrow channel
        # of its own first: in the wide one its pulses drown in the noise around them.
        extra = []  # (burst, from a narrowed channel)
        if last - start + 1 >= self.continuous_ticks:
            chans = [(y, rate, step, centre, bw, False)]
            occ_ex = ex[occ_lo:occ_hi + 1]
            if (not self.channel_bw_hz and bandwidth >= 3 * self.min_channel_bw_hz
                    and ex[kp] >= 2 * median(occ_ex)):
                f_line = float(self._bin_freq[kp])
                chans.append(extract_channel(self._history_parts(a, b), self.sample_rate, f_line,
                                             self.min_channel_bw_hz, dc=base.dc)
                             + (f_line, self.min_channel_bw_hz, True))
            for yk, rk, sk, ck, bk, narrowed in chans:
                ch_noise = per_bin * self.n_bins * channel_noise_bandwidth(bk) / self.sample_rate
                keyed = self._keyed_on_steady(yk, rk, ch_noise)
                if keyed is None:
                    continue
                k_act, k_noise = keyed
                k_packages = self._packages(k_act, rk)
                for idx, (e0, e1) in enumerate(k_packages):
                    burst = self._make_burst(yk, rk, sk, a, k_act, e0, e1, k_packages, idx, ck, bk,
                                             bandwidth, k_noise, band_noise, lobes, (None, None))
                    # a fob's package on a line is short; a long one is the line's own
                    # fluctuation (an amplifier's noise seen through a wide channel)
                    if burst is not None and burst.duration_s < self.continuous_s:
                        burst.keyed_on_steady = True
                        extra.append((burst, narrowed))
        packages = self._packages(act, rate)
        # a region cut at max_burst_s: its segments tile the transmission exactly, where a
        # package runs into the cut. A fob keyed on top of a weak steady line (a jammer's
        # intermodulation spur) shares that line's long region but ends well before the cut:
        # it keeps its own ends, or it would be stretched into a "continuous" burst
        near = max(self.soft_gap_ticks, 2) * self.tick_len
        seg0, seg1 = start * self.tick_len, (last + 1) * self.tick_len
        for idx, (e0, e1) in enumerate(packages):
            cut = (seg0 if cont_before and idx == 0 and a + e0 * step <= seg0 + near else None,
                   seg1 if cont_after and idx == len(packages) - 1 and a + e1 * step >= seg1 - near
                   else None)
            burst = self._make_burst(y, rate, step, a, act, e0, e1, packages, idx, centre, bw,
                                     bandwidth, noise_ch, band_noise, lobes, cut)
            if burst is None:
                continue
            out.append(burst)
        # pulses on a line in the region's own channel are news only where the channel gave
        # a continuous burst (the line with the fob inside); elsewhere they are the packages
        # found already (a fob whose carrier leaks between its pulses is "a line" too)
        for burst, narrowed in extra:
            if narrowed or not any(
                    not o.continuous and min(o.stop, burst.stop) - max(o.start, burst.start)
                    > 0.5 * (burst.stop - burst.start) for o in out):
                out.append(burst)
        kept = []
        for burst in out:
            if self.min_snr_db is not None and burst.snr_db < self.min_snr_db:
                self._count("below_min_snr")
                continue
            if self._neighbour_carrier(burst, group, others):
                self._count("leaks")
                continue
            kept.append(burst)
        return kept

    def _neighbour_cores(self, group: list[_Region], others: list[tuple], start: int,
                         last: int) -> tuple[int, int]:
        """The nearest core bins below and above ``group``'s cores (-1 and n_bins when none) of
        the regions among ``others`` that overlap it in time and stand within ``ghost_db`` of
        its strongest region's level: weaker ones are its splatter and images, and a much
        stronger one may be what this group is the splatter of (judged by the carrier its
        channel shows: _leak_probe, _neighbour_carrier). A core nearer the group's peak than
        half the narrowest channel is in its channel however it is cut (a replayer's LO leak
        10 kHz from the fob: the line through the frames' gaps is evidence of the replay).
        A group whose cores span ``NO_FOB_CHANNEL_HZ`` is no fob: left as it is."""
        g_lo, g_hi = min(r.lo for r in group), max(r.hi for r in group)
        near_lo, near_hi = -1, self.n_bins
        if (g_hi - g_lo + 1) * self.bin_hz >= self.NO_FOB_CHANNEL_HZ:
            return near_lo, near_hi
        k, power = max((r.peak() for r in group), key=lambda p: p[1])
        ghost = 10 ** (self.ghost_db / 10)
        apart = 0.5 * self.min_channel_bw_hz / self.bin_hz
        for s_start, s_last, _, s_power, s_lo, s_hi in others:
            if s_start <= last and s_last >= start and power <= s_power * ghost <= power * ghost ** 2:
                if s_hi < g_lo and k - s_hi >= apart:
                    near_lo = max(near_lo, s_hi)
                elif s_lo > g_hi and s_lo - k >= apart:
                    near_hi = min(near_hi, s_lo)
        return near_lo, near_hi

    #: a channel this wide (Hz) is no fob's
    NO_FOB_CHANNEL_HZ = KEYED_MAX_CHANNEL_HZ
    #: a long group in such a channel is first measured over its first this many seconds
    LEAK_PROBE_S = 0.25

    def _leak_probe(self, group: list[_Region], others: list[tuple], a: int, b: int,
                    centre: float, bw: float, bandwidth: float, noise_ch: float,
                    band_noise: float, lobes) -> bool:
        """True when the first ``LEAK_PROBE_S`` of a long wide group, finished alone, gives a
        burst whose carrier sits in a stronger region's core: the group is that region's skirt
        (a swept jammer's sweep, three regions wide, leaves one beside the centre band whose
        own carrier is the centre's). Finishing its seconds of samples in full, two channels of
        them at 2.4 Msps, only to drop them cost a live monitor 0.4 s of CPU at the sweep's
        end. A probe that decides nothing leaves the group to the full path."""
        y, rate, step = extract_channel(self._history_parts(a, b), self.sample_rate, centre, bw,
                                        dc=group[0].dc)
        act = carrier_activity(y, rate, noise_ch)
        if act is None:
            return False
        packages = self._packages(act, rate)
        if not packages:
            return False
        e0, e1 = packages[0]
        burst = self._make_burst(y, rate, step, a, act, e0, e1, packages, 0, centre, bw,
                                 bandwidth, noise_ch, band_noise, lobes, (None, None))
        return burst is not None and self._neighbour_carrier(burst, group, others)

    #: a keyed signal on a steady line: its pulses stand this much over the line (dB)
    KEYED_OVER_LINE_DB = 5.0

    def _keyed_on_steady(self, y: np.ndarray, rate: float, noise: float):
        """(activity, line power) of pulses keyed on top of a steady line, or None.

        The line's level is the 10th percentile of the channel power in 1 ms blocks: what is
        there all the time, even between a fob's packages. It must stand 6 dB over the
        channel's noise ``noise`` (a fob repeating its packages alone has nothing under it),
        and pulses count when some block stands ``KEYED_OVER_LINE_DB`` over it. A jammer
        alone (CW or noise) never does; both checks are O(n) and come before the activity
        detector runs.
        """
        block_p = block_power(y, max(1, int(rate * 1e-3)))
        if block_p.size < 16:
            return None
        line = float(np.percentile(block_p, 10))
        over = 10 ** (self.KEYED_OVER_LINE_DB / 10)
        if line < 4.0 * noise or block_p.max() < over * line:
            return None
        act = carrier_activity(y, rate, line, min_excess_db=self.KEYED_OVER_LINE_DB)
        if act is None:
            return None
        on = np.flatnonzero(act.levels == 1)
        if on.size == 0 or (act.edges[on + 1] - act.edges[on]).sum() > 0.5 * y.size:
            return None  # on most of the time: the line itself, not pulses on top of it
        return act, line

    def _neighbour_carrier(self, burst: Burst, group: list[_Region], others: list[tuple]) -> bool:
        """True when the burst's carrier sits in the core of another, stronger region that
        overlaps it in time: the bins of a strong signal's skirt formed a region of their own,
        and its channel shows that signal again."""
        k = int(round(burst.offset_hz / self.bin_hz)) + self.n_bins // 2
        t0, t1 = burst.start // self.tick_len, burst.stop // self.tick_len
        power = max(r.peak()[1] for r in group)
        for s_start, s_last, _, s_power, s_lo, s_hi in others:
            # clearly stronger (a continuation of the same transmitter after a cut is not)
            if s_lo - 1 <= k <= s_hi + 1 and s_power > 4 * power and s_start <= t1 and s_last >= t0:
                return True
        return False

    def _packages(self, act, rate: float) -> list[tuple[float, float]]:
        """Split the carrier-on runs into packages (edges in channel samples).

        rtl_433's rule: a gap ends a package when it is longer than ``gap_ratio`` × the longest
        pulse of the package so far (at least ``min_gap_s``, at most ``max_gap_s``). A gap of
        ``min_gap_s`` or less never splits, so only the longer gaps are walked one by one (a
        noisy jammer's channel has tens of thousands of runs, a fob's few hundred).
        """
        on = np.flatnonzero(act.levels == 1)
        if on.size == 0:
            return []
        starts, ends = act.edges[on], act.edges[on + 1]
        gaps = (starts[1:] - ends[:-1]) / rate
        cand = np.flatnonzero(gaps > self.min_gap_s)  # gap k lies after run k
        if cand.size == 0:
            return [(float(starts[0]), float(ends[-1]))]
        widths = ends - starts
        # longest run in each stretch between candidate gaps: runs [0..c0], (c0..c1], …
        seg_max = np.maximum.reduceat(widths, np.concatenate([[0], cand + 1])).tolist()
        cand_l, gaps_l = cand.tolist(), gaps[cand].tolist()
        out = []
        p0, longest = float(starts[0]), 0.0
        for i, k in enumerate(cand_l):
            longest = max(longest, seg_max[i])
            limit = min(max(self.gap_ratio * longest / rate, self.min_gap_s), self.max_gap_s)
            if gaps_l[i] > limit:
                out.append((p0, float(ends[k])))
                p0, longest = float(starts[k + 1]), 0.0
        out.append((p0, float(ends[-1])))
        return out

    def _make_burst(self, y, rate, step, a, act, e0, e1, packages, idx, centre, bw, bandwidth,
                    noise_ch, band_noise, lobes, cut) -> Burst | None:
        n = y.size
        margin = int(round(1e-3 * rate))
        lo_lim = 0 if idx == 0 else int(0.5 * (packages[idx - 1][1] + e0))
        hi_lim = n if idx == len(packages) - 1 else int(math.ceil(0.5 * (e1 + packages[idx + 1][0])))
        s0 = max(lo_lim, int(math.floor(e0)) - margin)
        s1 = min(hi_lim, int(math.ceil(e1)) + margin)
        i0, i1 = int(math.floor(e0)), max(int(math.ceil(e1)), int(math.floor(e0)) + 1)
        mask = act.mask[i0:i1]
        seg = y[i0:i1]
        if not mask.any():
            return None
        on = seg[mask]
        on_power = float(np.mean(power64(on)))
        signal_power = max(on_power - noise_ch, 1e-3 * noise_ch)
        duty = float(mask.mean())
        tones = spectral_lobes(on, rate) if on.size >= 64 and duty >= 0.7 else None
        fsk = None
        if tones is not None and tones.two_lobes:
            carrier = 0.5 * (tones.peak_hz + tones.second_hz)
            fsk = tuple(sorted((float(centre + tones.peak_hz), float(centre + tones.second_hz))))
        else:
            carrier = fine_carrier(seg, mask, rate)
        if abs(carrier) > 0.5 * bw or abs(centre + carrier) > self.edge_fraction * 0.5 * self.sample_rate:
            # the strongest thing in this channel sits outside its pass band (a neighbour
            # leaking through the filter skirt, reported in its own channel) or at the very
            # edge of the sampled band, where the receiver's anti-alias filter folds in
            # copies from outside
            self._count("leaks")
            return None
        start = a + int(round(e0 * step)) if cut[0] is None else cut[0]
        stop = a + int(round(e1 * step)) if cut[1] is None else cut[1]
        duration = (stop - start) / self.sample_rate
        rssi = 10 * math.log10(signal_power)
        return Burst(
            start=start, stop=stop, sample_rate=self.sample_rate, center_freq=self.center_freq,
            offset_hz=float(centre + carrier), channel_offset_hz=float(centre),
            rssi_db=rssi, snr_db=rssi - 10 * math.log10(band_noise),
            channel_snr_db=rssi - 10 * math.log10(noise_ch),
            noise_db=10 * math.log10(band_noise), channel_noise_db=10 * math.log10(noise_ch),
            bandwidth_hz=float(bandwidth), duty_cycle=duty,
            iq=np.ascontiguousarray(y[s0:s1]), on_mask=act.mask[s0:s1].copy(), iq_rate=rate,
            iq_start=a + s0 * step, iq_step=step,
            channel_bw_hz=bw,
            # a segment after a cut belongs to a transmission at least steady_burst_s long
            continuous=(duration >= self.continuous_s or cut[0] is not None)
            and duty >= self.continuous_duty,
            truncated_start=cut[0] is not None, truncated_end=cut[1] is not None, fsk_tones_hz=fsk,
            fsk_lobes_hz=lobes)

    # -------------------------------------------------------------------------------------
    # raw history and output order
    def _history_parts(self, a: int, b: int) -> list[np.ndarray]:
        """Raw samples [a, b) as views of the kept blocks, in order (no copy)."""
        parts = []
        pos = self._hist_start
        for arr in self._hist:
            end = pos + arr.size
            if end > a and pos < b:
                parts.append(arr[max(0, a - pos):min(arr.size, b - pos)])
            pos = end
        return parts

    def release_horizon(self) -> float:
        """Capture time (s) before which no burst will be released any more.

        Bursts leave in start order once no region still open or waiting to be finished can
        start before them (a region's raw samples reach ``pre_ticks`` before its first tick),
        so every burst starting before this time has been returned by ``process`` already.
        A live monitor advances its decision clock to it while the band is quiet. After
        ``flush``: the end of the stream.
        """
        if self._flushed:
            return self._pos / self.sample_rate
        return self._keep_from() / self.sample_rate

    def _keep_from(self) -> int:
        """Capture sample from which the raw history is still needed (and bursts held)."""
        return max(0, (self._horizon_tick() - self.pre_ticks) * self.tick_len)

    def _horizon_tick(self) -> int:
        """No region still to come can start before this tick (minus the pre-roll)."""
        t = self._row_first
        for r in self._open:
            t = min(t, r.start)
        for r in self._closed:
            t = min(t, r.start)
        if self._wide is not None:
            t = min(t, self._wide.start)
        return t

    def held(self) -> list[Burst]:
        """Bursts finished but not released yet (an earlier one may still come), in no order.
        They are final: what leaves later is one of these objects, unchanged, or nothing (a
        longer copy of the same transmission may replace one)."""
        return [e[2] for e in self._ready]

    def _release(self, final: bool) -> list[Burst]:
        keep_from = self._keep_from()
        # trim the raw history to what a future region can still need
        while self._hist and self._hist_start + self._hist[0].size <= keep_from:
            self._hist_start += self._hist[0].size
            self._hist.pop(0)
        out = []
        while self._ready and (final or self._ready[0][0] < keep_from):
            out.append(heapq.heappop(self._ready)[2])
        return out


def detect_bursts(capture: Capture, block_size: int = DEFAULT_BLOCK, **options) -> Iterator[Burst]:
    """Every burst of an IQ capture, in time order (``options`` go to :class:`BurstDetector`)."""
    det = BurstDetector(capture.sample_rate, capture.center_freq, **options)
    return det.iter_bursts(capture, block_size)
