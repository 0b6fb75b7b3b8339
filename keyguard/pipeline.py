"""The whole chain on captures or live streams: bursts → pulse trains → packets → alerts.

``Scanner`` holds what a run shares (profiles, decoder settings, detection engine, state file,
models). ``Scanner.scan(captures)`` yields the contract records of a file run in order: for each
capture (in start-time order) its ``capture`` record, then its packets and alerts, and at the end
one ``summary``. ``Scanner.stream(...)`` gives a :class:`StreamSession` for a live source: feed it
sample blocks and it returns records as soon as they are known (the monitor uses it).

The stages used, each usable alone: :class:`keyguard.dsp.bursts.BurstDetector`,
:func:`keyguard.dsp.demod.demodulate`, :class:`keyguard.protocols.engine.Decoder`,
:func:`keyguard.features.extract.features_from_burst` and
:class:`keyguard.detect.DetectionEngine`.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from keyguard.detect import BurstInfo, DetectConfig, DetectionEngine, order_captures
from keyguard.dsp.bursts import Burst, BurstDetector
from keyguard.dsp.demod import KEYED_MAX_CHANNEL_HZ, demodulate, held_fob
from keyguard.dsp.workers import Ahead, ordered_map
from keyguard.events import Alert, CaptureRecord, Packet, Summary, severity_rank
from keyguard.features.extract import features_from_burst
from keyguard.io import open_capture
from keyguard.io.capture import DEFAULT_BLOCK, Capture, SampleBlock
from keyguard.io.record import capture_record
from keyguard.protocols.engine import Decoder
from keyguard.protocols.registry import Registry, load_registry

Record = CaptureRecord | Packet | Alert | Summary

#: Samples read per block from a capture file (the burst detector keeps its own history across
#: blocks, so this sets memory and read size only, never what is detected).
BLOCK_SAMPLES = DEFAULT_BLOCK


@dataclass
class ScanOptions:
    """Everything that changes a scan's result (recorded in reports so a run can be repeated).

    receiver: a name for the receiver (dongle) that made the captures; carrier-offset
    fingerprints are only compared between captures of the same receiver (default: the file's
    hardware description).
    profile_dirs: extra firmware-profile folders or files. protocols: restrict decoding to these
    profile names. keys_file: KeeLoq manufacturer keys (the user's own). state_path: SQLite
    state carried between runs (None: in memory for this run only). model_path: burst
    classifier (None: the model shipped with keyguard, when there is one). unknown: report
    framed-but-unmatched frames. learn_unknown: give unknown frames an identity/code learned
    across the capture (file scans only; live streams cannot look ahead).
    """

    profile_dirs: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()
    keys_file: str | None = None
    state_path: str | None = None
    model_path: str | None = None
    use_model: bool = True
    unknown: bool = True
    learn_unknown: bool = True
    input_format: str | None = None
    sample_rate: float | None = None
    center_freq: float | None = None
    start_time: datetime | None = None
    receiver: str | None = None
    detect_config: DetectConfig | None = None
    burst_options: dict = field(default_factory=dict)
    #: threads sharing one block's independent work: regions finished, bursts demodulated and
    #: measured (a live monitor's alert latency behind a jammer); output does not depend on it
    workers: int = 1

    def describe(self) -> dict:
        """The options as plain values (for reports and model cards)."""
        return {
            "profile_dirs": list(self.profile_dirs), "protocols": list(self.protocols),
            "keys_file": self.keys_file, "state_path": self.state_path,
            "model_path": self.model_path, "use_model": self.use_model,
            "unknown": self.unknown, "learn_unknown": self.learn_unknown,
            "input_format": self.input_format, "sample_rate": self.sample_rate,
            "center_freq": self.center_freq, "receiver": self.receiver,
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
        }


@dataclass
class Observed:
    """One burst's worth of evidence before it reaches the detectors."""

    burst: BurstInfo | None
    packets: list[Packet]


def _pulse_trains(b: Burst) -> list:
    """The pulse trains of one burst, or none for a jammer.

    A carrier held on (≥ 90 % for ≥ 0.5 s) with one spectral lobe and a steady envelope
    carries no OOK or FSK data: a jammer. Its demodulation costs seconds of CPU at 2.4 Msps
    (the monitor falls behind the radio) and gives nothing. Two-lobed (FSK) ones are still
    demodulated, and so are keyed ones (a held button close to the receiver: its carrier leaks
    between the pulses far over the noise)."""
    jammer_like = b.continuous and b.fsk_tones_hz is None and not held_fob(b)
    return [] if jammer_like else demodulate(demod_span(b))


class Scanner:
    """Decode and detect over captures; one instance per run (it holds the run's state)."""

    def __init__(self, options: ScanOptions | None = None, *,
                 registry: Registry | None = None, state: Any = None,
                 models: dict | None = None):
        self.options = options or ScanOptions()
        o = self.options
        self.registry = registry if registry is not None else load_registry(o.profile_dirs)
        if o.protocols:
            self.registry.select(list(o.protocols))  # validates the names up front
        self.codec_ctx: dict = {}
        if o.keys_file:
            from keyguard.protocols.keys import load_keys

            self.codec_ctx["manufacturer_keys"] = load_keys(o.keys_file)
        self._own_state = False
        if state is None and o.state_path:
            from keyguard.state import State

            state = State(o.state_path)
            self._own_state = True
        self.state = state
        self.models = dict(models) if models is not None else self._default_models()
        self.engine = DetectionEngine(o.detect_config, profiles=self.registry, state=state,
                                      models=self.models)
        self.counts: Counter = Counter()
        self.alerts_by_kind: Counter = Counter()
        self.max_severity_rank = -1  # highest alert severity seen (-1: none)
        self._started = time.perf_counter()

    # set-up ------------------------------------------------------------------------------
    def _default_models(self) -> dict:
        o = self.options
        if not o.use_model:
            return {}
        try:
            from keyguard.models import load_burst_model
        except ImportError:  # no trained model in this build
            return {}
        model = load_burst_model(o.model_path)
        return {} if model is None else {"burst": model}

    def decoder(self, *, pulse_capture: bool = False) -> Decoder:
        """A fresh decoder with the run's profiles (pulse captures: any modulation, since a
        Flipper preset does not prove the fob's modulation)."""
        return Decoder(self.registry, protocols=self.options.protocols or None,
                       strict_modulation=not pulse_capture, unknown=self.options.unknown,
                       codec_ctx=self.codec_ctx)

    def open(self, paths: Sequence[str | Path]) -> list[Capture]:
        """Open every capture (raising the first input error) and order them by start time."""
        o = self.options
        caps = [open_capture(str(p), fmt=o.input_format, sample_rate=o.sample_rate,
                             center_freq=o.center_freq, start_time=o.start_time) for p in paths]
        return order_captures(caps)

    # file runs ---------------------------------------------------------------------------
    def scan_paths(self, paths: Sequence[str | Path],
                   progress: Callable[[int], None] | None = None) -> Iterator[Record]:
        """Open, then :meth:`scan`."""
        yield from self.scan(self.open(paths), progress=progress)

    def scan(self, captures: Iterable[Capture],
             progress: Callable[[int], None] | None = None) -> Iterator[Record]:
        """Records of every capture (already ordered by the caller or by :meth:`open`), the
        alerts that only the end of the run decides, and one summary. ``progress`` is called
        with the number of samples just processed."""
        try:
            for cap in captures:
                yield from self._scan_one(cap, progress)
            yield from self._alerts(self.engine.finish())
            yield self.summary()
        finally:
            self.close()

    def _scan_one(self, cap: Capture, progress: Callable[[int], None] | None) -> Iterator[Record]:
        self.counts["captures"] += 1
        yield capture_record(cap)
        yield from self._alerts(self.engine.begin(cap, receiver=self.options.receiver))
        if cap.is_pulse_capture:
            observed = self._observe_pulses(cap)
            if progress:
                progress(cap.num_samples)
        else:
            session = CaptureSession(self, cap.path, cap.sample_rate, cap.center_freq,
                                     cap.start_time)
            observed = list(session.observe_capture(cap, progress))
        if self.options.learn_unknown and self.options.unknown:
            from keyguard.protocols.learn import label_unknown

            label_unknown([p for ob in observed for p in ob.packets])
        for ob in observed:
            yield from self._packets(ob.packets)
            yield from self._alerts(self.engine.observe(ob.burst, ob.packets))
            if not cap.is_pulse_capture and ob.burst is not None:
                # the burst detector hands bursts out in start order: nothing earlier follows
                yield from self._alerts(self.engine.advance_to(ob.burst.t))
        if not cap.is_pulse_capture:
            yield from self._alerts(self.engine.advance_to(session.horizon_s()))
        yield from self._alerts(self.engine.end_capture())

    def _observe_pulses(self, cap: Capture) -> list[Observed]:
        dec = self.decoder(pulse_capture=True)
        out = []
        for train in cap.pulse_trains or ():
            packets = list(dec.decode(train, cap.path, cap.start_time))
            out.append(Observed(BurstInfo.from_pulse_train(train), packets))
        return out

    # live runs ---------------------------------------------------------------------------
    def stream(self, name: str, sample_rate: float, center_freq: float | None,
               start_time: datetime | None = None, sha256: str | None = None,
               receiver: str | None = None) -> "StreamSession":
        """A session for a live source; feed it blocks in order (see :class:`StreamSession`)."""
        self.counts["captures"] += 1
        alerts = self.engine.begin_capture(name, start_time=start_time, sha256=sha256,
                                           receiver=receiver, center_freq_hz=center_freq)
        return StreamSession(self, name, sample_rate, center_freq, start_time, alerts)

    # bookkeeping -------------------------------------------------------------------------
    def _packets(self, packets: Iterable[Packet]) -> Iterator[Packet]:
        for p in packets:
            self.counts["packets"] += 1
            yield p

    def _alerts(self, alerts: Iterable[Alert]) -> Iterator[Alert]:
        for a in alerts:
            self.counts["alerts"] += 1
            self.alerts_by_kind[a.kind] += 1
            self.max_severity_rank = max(self.max_severity_rank, severity_rank(a.severity))
            yield a

    def summary(self) -> Summary:
        return Summary(captures=self.counts["captures"], packets=self.counts["packets"],
                       alerts=self.counts["alerts"], alerts_by_kind=dict(self.alerts_by_kind),
                       elapsed_s=time.perf_counter() - self._started)

    def close(self) -> None:
        if self._own_state and self.state is not None:
            self.state.close()
            self.state = None


class CaptureSession:
    """IQ blocks of one capture or stream → observations (bursts with their packets)."""

    def __init__(self, scanner: Scanner, name: str, sample_rate: float,
                 center_freq: float | None, start_time: datetime | None,
                 sample_offset: int = 0):
        self.scanner = scanner
        self.name = name
        self.start_time = start_time
        # a session restarted after lost samples counts its blocks from its own first sample;
        # its bursts are moved back onto the stream's sample axis before anything else sees them
        self.sample_offset = int(sample_offset)
        self.workers = max(1, int(scanner.options.workers))
        self.detector = BurstDetector(sample_rate, center_freq,
                                      **{"workers": self.workers, **scanner.options.burst_options})
        self.decoder = scanner.decoder()
        self.noise_db: float | None = None  # whole-band noise at the latest burst (dBFS)
        # with a spare thread, a finished burst held behind an earlier one is measured while
        # it waits (a jammer's long segments wait for the regions that began with it)
        self._ahead = Ahead(self._measure) if self.workers > 1 else None

    def observe_block(self, block: SampleBlock) -> list[Observed]:
        if self.sample_offset:
            block = replace(block, start=block.start - self.sample_offset)
        observed = self._observe(self.detector.process(block))
        if self._ahead is not None:
            held = self.detector.held()
            self._ahead.keep(held)
            self._ahead.submit(held)
        return observed

    def observe_end(self) -> list[Observed]:
        observed = self._observe(self.detector.flush())
        if self._ahead is not None:
            self._ahead.keep(())
        return observed

    def horizon_s(self) -> float:
        """Stream time (s) before which no burst is still to come from this session: the burst
        detector's release horizon (the end of the stream once ended)."""
        return self.sample_offset / self.detector.sample_rate + self.detector.release_horizon()

    def observe_capture(self, capture: Capture,
                        progress: Callable[[int], None] | None = None) -> Iterator[Observed]:
        """Every block of ``capture`` then the end (bounded memory); ``progress`` gets the
        number of new samples after each block."""
        for block in capture.blocks(BLOCK_SAMPLES):
            yield from self.observe_block(block)
            if progress:
                progress(block.samples.size - block.overlap)
        yield from self.observe_end()

    def _shifted(self, b: Burst) -> Burst:
        """``b`` on the stream's sample axis."""
        off = self.sample_offset
        if not off:
            return b
        return replace(b, start=b.start + off, stop=b.stop + off, iq_start=b.iq_start + off)

    def _measure(self, b: Burst, ahead: bool = True) -> tuple[Burst, list, Any]:
        """A detector's burst on the stream's axis, its pulse trains and (``ahead``: the
        packets are not known yet) its features without a profile (demodulation and features
        of one burst do not depend on another's)."""
        b = self._shifted(b)
        return b, _pulse_trains(b), features_from_burst(b, None) if ahead else None

    def _observe(self, bursts) -> list[Observed]:
        if not bursts:
            return []
        # measured ahead, or now side by side; decoding (the decoder learns unknown
        # protocols as it goes) stays in burst order
        jobs = [self._ahead.take(b) if self._ahead is not None else None for b in bursts]
        now = iter(ordered_map(lambda b: self._measure(b, ahead=False),
                               [b for b, j in zip(bursts, jobs) if j is None], self.workers))
        measured = [next(now) if j is None else j.result() for j in jobs]
        bursts = [m[0] for m in measured]
        self.noise_db = bursts[-1].noise_db
        packets, limits, parts = [], [], []
        for b, m in zip(bursts, measured):
            ps, own = [], []
            for tr in m[1]:
                got = list(self.decoder.decode(tr, self.name, self.start_time))
                ps += got
                part = _decoded_part(tr, got)
                if part is not None:
                    own.append(BurstInfo.from_burst(
                        part, features_from_burst(part, self._profile_of(got))))
            limits.append(self._demod_on(b, ps))
            packets.append(ps)
            parts.append(tuple(own))
        profiles = [self._profile_of(ps) for ps in packets]
        # features measured ahead had no profile: again for a burst that has one
        redo = [i for i, (prof, m) in enumerate(zip(profiles, measured))
                if prof is not None or m[2] is None]
        again = dict(zip(redo, ordered_map(lambda i: features_from_burst(bursts[i], profiles[i]),
                                           redo, self.workers)))
        infos = [BurstInfo.from_burst(b, again.get(i, m[2]), demod_limit_s=limits[i],
                                      parts=parts[i])
                 for i, (b, m) in enumerate(zip(bursts, measured))]
        return [Observed(info, ps) for info, ps in zip(infos, packets)]

    def _demod_on(self, b: Burst, packets: list[Packet]) -> float | None:
        """Demodulate a burst cut at its demodulation span further while its decoded frames
        run up to the cut (appending their packets to ``packets``); how much of it was
        demodulated in the end (s from its start), or None for all of it. The last two decoded
        frames must carry the same data, one frame period apart, and the last reach to within
        ``RUN_TO_CUT_S`` of the cut.

        A held press merged with a sensor's message into one burst longer than the span kept
        only its first frames; its last ones came as bursts of their own on the press's true
        carrier, off the merged estimate, and became a second press of the same code: a replay
        (fresh benign soak seed 292360). Only frames that decode carry the demodulation on, so
        a jammer's long noise still costs one span."""
        limit = _demod_limit_s(b)
        span = limit
        while limit is not None and limit < MAX_CONTINUED_DEMOD_S:
            decoded = sorted((p for p in packets if p.protocol != "unknown"), key=lambda p: p.t)
            if len(decoded) < 2:
                break
            last, before = decoded[-1], decoded[-2]
            end = last.t_end
            # a held transmission runs up to the cut: its frames repeat, one period apart (a
            # single frame is not enough: a swept jammer's chopping read as a PT2262 frame now
            # and then, development jamming seed 300)
            if (end < b.t + limit - RUN_TO_CUT_S or last.data != before.data
                    or last.t - before.t_end > RUN_TO_CUT_S):
                break
            start = int(round(end * b.sample_rate))
            more = demodulate(burst_span(b, start, start + int(span * b.sample_rate)))
            new = [p for tr in more for p in self.decoder.decode(tr, self.name, self.start_time)
                   if p.t >= end]
            limit = end + span - b.t
            if limit >= b.duration_s:
                limit = None
            if not new:
                break
            packets += new
        return limit

    def _profile_of(self, packets: list[Packet]):
        for p in packets:
            if p.protocol != "unknown":
                try:
                    return self.scanner.registry.get(p.protocol)
                except Exception:  # a learned or removed profile name: features need none
                    return None
        return None


class StreamSession(CaptureSession):
    """A live stream: ``process(block)`` returns records (packets, alerts) as soon as known;
    ``drain()`` ends the burst detector (before a gap in the samples); ``finish()`` returns the
    rest and the end-of-run alerts."""

    def __init__(self, scanner: Scanner, name: str, sample_rate: float,
                 center_freq: float | None, start_time: datetime | None,
                 pending_alerts: list[Alert], sample_offset: int = 0):
        super().__init__(scanner, name, sample_rate, center_freq, start_time, sample_offset)
        self._pending = list(scanner._alerts(pending_alerts))

    def process(self, block: SampleBlock) -> list[Record]:
        return self._records(self.observe_block(block))

    def drain(self) -> list[Record]:
        return self._records(self.observe_end())

    def restarted(self, sample_offset: int) -> "StreamSession":
        """A new session on the same stream from ``sample_offset`` (after lost samples): fresh
        burst detector and decoder; the run's detection memory carries on."""
        return StreamSession(self.scanner, self.name, self.detector.sample_rate,
                             self.detector.center_freq, self.start_time, [], sample_offset)

    def finish(self) -> list[Record]:
        out = self.drain()
        out += list(self.scanner._alerts(self.scanner.engine.finish()))
        return out

    def _records(self, observed: list[Observed]) -> list[Record]:
        out: list[Record] = self._pending
        self._pending = []
        engine = self.scanner.engine
        for ob in observed:
            out += list(self.scanner._packets(ob.packets))
            out += list(self.scanner._alerts(engine.observe(ob.burst, ob.packets)))
        # time has passed even when nothing was heard: decisions due by the front end's
        # horizon are made now, not when the next burst comes
        out += list(self.scanner._alerts(engine.advance_to(self.horizon_s())))
        return out


#: longest stretch of one burst that is demodulated (s). Key-fob packages last well under a
#: second (the detector splits frames at their guard gaps); a longer package is wideband junk
#: around a jammer (intermodulation noise keyed by its fluctuations, seconds long) whose
#: demodulation cost seconds of CPU in one block at 2.4 Msps and put a live monitor behind
#: the radio. Its first DEMOD_SPAN_S is still demodulated, so frames at its start decode.
DEMOD_SPAN_S = 1.0
#: a channel this wide (Hz) is no fob's (a 2-FSK fob with a wide deviation needs ~100 kHz): a
#: long burst in it is a swept or noise jammer or an amplifier's noise, of which only the first
#: WIDE_DEMOD_SPAN_S (s) is demodulated; a fob keyed inside has a narrow burst of its own
WIDE_CHANNEL_HZ = KEYED_MAX_CHANNEL_HZ
WIDE_DEMOD_SPAN_S = 0.25
#: a part of a burst demodulated on its own (``keyguard.dsp.demod.quiet_active_runs``) is
#: measured over its decoded frames and this much (s) on either side
PART_MARGIN_S = 0.002
#: a cut burst whose decoded frames run to within this (s) of the cut is demodulated on, span
#: by span from its last decoded frame (a frame period and a guard), ...
RUN_TO_CUT_S = 0.25
#: ... up to this much of it (s from its start): a button held that long
MAX_CONTINUED_DEMOD_S = 10.0


def demod_span(burst: Burst) -> Burst:
    """``burst``, or its first ``DEMOD_SPAN_S`` seconds (``WIDE_DEMOD_SPAN_S`` in a channel of
    ``WIDE_CHANNEL_HZ`` or more; flagged ``truncated_end``) when it is longer: the demodulation
    cost of one burst stays bounded."""
    span = _demod_limit_s(burst)
    if span is None:
        return burst
    return burst_span(burst, burst.start, burst.start + int(span * burst.sample_rate))


def burst_span(burst: Burst, start: int, stop: int) -> Burst:
    """The part of ``burst`` between capture samples ``start`` and ``stop``, flagged
    ``truncated_start`` / ``truncated_end`` where it was cut (the channel samples ahead of the
    burst's start are kept when it begins there)."""
    step = max(burst.iq_step, 1)
    start, stop = max(start, burst.start), min(stop, burst.stop)
    k0 = 0 if start <= burst.start else min(burst.iq.size - 1, (start - burst.iq_start) // step)
    k1 = burst.iq.size if stop >= burst.stop else max(k0 + 1, min(
        burst.iq.size, (stop - burst.iq_start) // step))
    return burst.channel_span(k0, k1, start, stop)


def _decoded_part(train: Any, packets: list[Packet]) -> Burst | None:
    """The stretch of a burst that ``train`` was demodulated from on its own (another
    transmitter's keying, ``keyguard.dsp.demod.quiet_active_runs``), cut to its decoded
    frames and ``PART_MARGIN_S`` around them (the off run it came from also holds the silence
    after that transmitter's last frame); None for a train of the whole burst, or when no
    profile decoded in it."""
    part = train.meta.get("sub_burst")
    frames = [p for p in packets if p.protocol != "unknown"]
    if part is None or not frames:
        return None
    pad = PART_MARGIN_S * part.sample_rate
    return burst_span(part, int(min(p.t for p in frames) * part.sample_rate - pad),
                      int(max(p.t_end for p in frames) * part.sample_rate + pad))


def _demod_limit_s(burst: Burst) -> float | None:
    """How much of ``burst`` is demodulated (s from its start), or None for all of it."""
    span = WIDE_DEMOD_SPAN_S if burst.channel_bw_hz >= WIDE_CHANNEL_HZ else DEMOD_SPAN_S
    return None if burst.duration_s <= span else span


def observe_capture(capture: Capture, registry: Registry | None = None) -> Iterator[Observed]:
    """The bursts of one IQ capture with their packets and features, without detection (for
    training data and fob enrolment); bounded memory."""
    scanner = Scanner(ScanOptions(use_model=False, learn_unknown=False), registry=registry,
                      models={})
    session = CaptureSession(scanner, capture.path, capture.sample_rate, capture.center_freq,
                             capture.start_time)
    yield from session.observe_capture(capture)


def scan_captures(paths: Sequence[str | Path], options: ScanOptions | None = None,
                  **kw) -> Iterator[Record]:
    """Convenience: every record of a scan of ``paths`` (see :class:`Scanner`)."""
    if options is None:
        options = ScanOptions(**kw)
    elif kw:
        raise TypeError("give either options or keyword options, not both")
    return Scanner(options).scan_paths(paths)
