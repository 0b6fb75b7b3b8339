"""Scenarios: devices, presses, attacks and clutter on a timeline, heard by one RTL-SDR.

A :class:`Scenario` is plain data — build it in code or load it from TOML
(:meth:`Scenario.from_toml`; the shipped, commented examples in ``keyguard/sim/scenarios/``
show every table: ``[receiver]``, ``[channel]``, ``[[devices]]``, ``[[presses]]``,
``[[attacks]]`` with ``type`` = jam, rolljam, rollback, replay, clone, bruteforce or relay, and
``[[clutter]]`` with ``type`` = weather, tpms, doorbell or fobs). :meth:`Scenario.plan` turns it
into a :class:`Rendering`: the list of emissions and the ground truth.
:meth:`Rendering.chunks` then renders the capture in bounded memory, chunk by chunk.

Frames come from a *frame source*: a callable taking a :class:`FrameRequest` (protocol, fields,
hold time) and returning the frames of one press as pulse trains, ``t`` = seconds from the press.
The default asks the firmware-profile encoder (:mod:`keyguard.sim.frames`); tests and
researchers can inject their own.

Every genuine press of a device gets the next counter in time order (a held button keeps its
code, a double press uses two), so KeeLoq hops in a capture are a real sequence under the
device's key. Ground truth lists each genuine press (``press``), each clutter transmission
(``benign``) and each attack event with the contract's alert kinds.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields as dc_fields
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from keyguard.errors import ScenarioError
from keyguard.events import ALERT_KINDS
from keyguard.pulse_train import PulseTrain
from keyguard.sim.attacks import ATTACKS, Captured
from keyguard.sim.channel import ChannelModel
from keyguard.sim.clutter import OtherFobs, make_clutter
from keyguard.sim.emission import CHUNK, Emission, render_chunks
from keyguard.sim.fingerprint import DEVICE_CLASSES, draw_fingerprint
from keyguard.sim.noise import rng_for
from keyguard.sim.receiver import RtlSdr, draw_rtl_sdr
from keyguard.sim.scene import Scene, TimedFrame, Transmitter, frames_span

TRUTH_KINDS = ALERT_KINDS + ("press", "benign")

#: Longest scenario accepted (s): a day of capture is already ~100 GB of cu8 at 1 Msps.
MAX_DURATION_S = 86_400.0


@dataclass(frozen=True)
class FrameRequest:
    """What a frame source is asked: the frames of one press.

    protocol: firmware profile name. fields: the protocol fields (``serial``, ``button``,
    ``counter`` and ``device_key`` for KeeLoq...). hold_s: how long the button is held (s; frames
    repeat while held). repeats: frames wanted, or None for the protocol's default.
    """

    protocol: str
    fields: dict
    hold_s: float = 0.0
    repeats: int | None = None


FrameSource = Callable[[FrameRequest], list[PulseTrain]]


def _parse_int(v, what: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ScenarioError(f"{what} must be an integer, not {v!r}")
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            pass
    raise ScenarioError(f"{what} must be an integer or a hex string like \"0x1A2B\", not {v!r}")


def _pos(v, what: str) -> tuple:
    try:
        t = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        raise ScenarioError(f"{what} must be [x, y] or [x, y, z] in metres, not {v!r}") from None
    if len(t) == 2:
        t = (*t, 1.0)
    if len(t) != 3:
        raise ScenarioError(f"{what} must be [x, y] or [x, y, z] in metres, not {v!r}")
    return t


@dataclass
class Device:
    """A transmitter owned by someone: a fob, a remote.

    protocol: firmware profile name. serial: the identity field. key: KeeLoq device key (64
    bits; makes the device rolling). counter: counter of its first press in the scenario.
    button: default button. fields: further protocol fields for the encoder. freq_hz: nominal
    carrier (Hz). position: home position (m). device_class: fingerprint class (fob, sensor...).
    fingerprint: overrides of the drawn fingerprint (e.g. ``{"ppm": 12.0}``). snr_db: fix its
    mean SNR at the receiver (dB) instead of deriving it from position and power.
    rolling: whether the protocol carries a counter (default: True when a key is given).
    fsk_deviation_hz: FSK half-separation (Hz) for FSK protocols (default 20 kHz).
    """

    id: str
    protocol: str = "keeloq"
    serial: int | None = None
    key: int | None = None
    counter: int = 0
    button: int = 1
    fields: dict = field(default_factory=dict)
    freq_hz: float = 433.92e6
    position: tuple = (8.0, 3.0, 1.0)
    device_class: str = "fob"
    fingerprint: dict = field(default_factory=dict)
    snr_db: float | None = None
    rolling: bool | None = None
    fsk_deviation_hz: float | None = None

    def __post_init__(self) -> None:
        self.serial = _parse_int(self.serial, f"device {self.id}: serial")
        self.key = _parse_int(self.key, f"device {self.id}: key")
        self.position = _pos(self.position, f"device {self.id}: position")
        if self.device_class not in DEVICE_CLASSES:
            raise ScenarioError(f"device {self.id}: class {self.device_class!r} is not one of "
                                f"{', '.join(DEVICE_CLASSES)}")
        if self.rolling is None:
            self.rolling = self.key is not None or "counter" in self.fields

    @property
    def identity(self) -> str | None:
        """``protocol:SERIAL`` (hex) as the event contract writes identities, or None."""
        return None if self.serial is None else f"{self.protocol}:{self.serial:08X}"

    def code_fields(self, counter: int | None, button: int | None) -> dict:
        """The fields of one press's code."""
        f = dict(self.fields)
        if self.serial is not None:
            f["serial"] = self.serial
        if button is not None:
            f["button"] = button
        else:
            f.setdefault("button", self.button)
        if self.rolling and counter is not None:
            f["counter"] = int(counter) & 0xFFFF if self.key is not None else int(counter)
        if self.key is not None:
            f["device_key"] = self.key
        return f


@dataclass
class Press:
    """A genuine button press: device id, time (s), button, how long held (s).

    double: a second press ``double_gap_s`` after the first is released (a new code).
    by: the attack or clutter that caused it. jammed: the press happened under jamming.
    position: where the device was (m), default its home. counter: assigned when the scenario
    is planned.
    """

    device: str
    t: float
    button: int | None = None
    hold_s: float = 0.0
    double: bool = False
    double_gap_s: float = 0.6
    by: str | None = None
    jammed: bool = False
    position: tuple | None = None
    counter: int | None = None
    index: int = -1

    def __post_init__(self) -> None:
        if self.hold_s < 0 or self.double_gap_s <= 0:
            raise ScenarioError(f"press of {self.device} at {self.t}: hold_s must be >= 0 and double_gap_s > 0")
        if self.position is not None:
            self.position = _pos(self.position, f"press of {self.device}: position")


@dataclass
class TruthEvent:
    """One ground-truth event: kind (an alert kind, ``press`` or ``benign``), span (s),
    transmitter identity, the device/attack that caused it, and its physical parameters."""

    kind: str
    t: float
    t_end: float
    identity: str | None
    source: str
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "t": self.t, "t_end": self.t_end, "identity": self.identity,
                "source": self.source, "params": self.params}


@dataclass
class Scenario:
    """A whole scenario (see the module docstring). ``receiver`` holds RtlSdr settings; the
    ones left out (tuner ppm, DC offset, IQ imbalance) are drawn from the seed."""

    name: str = "scenario"
    duration_s: float = 30.0
    receiver: dict = field(default_factory=dict)
    channel: ChannelModel = field(default_factory=ChannelModel)
    devices: list = field(default_factory=list)
    presses: list = field(default_factory=list)
    attacks: list = field(default_factory=list)
    clutter: list = field(default_factory=list)
    seed: int = 0
    description: str = ""
    source_path: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise ScenarioError(f"duration_s must be within 0..{MAX_DURATION_S:g} s, not {self.duration_s}")
        ids = [d.id for d in self.devices]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ScenarioError(f"device id(s) used twice: {', '.join(sorted(dup))}")

    # loading ---------------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> "Scenario":
        """Load a scenario file; every mistake raises ScenarioError naming the file and key."""
        p = Path(path)
        if not p.is_file():
            raise ScenarioError("scenario file not found", path=p,
                                hint="give a .toml path, or see `keyguard simulate --list`")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ScenarioError(f"not valid TOML: {e}", path=p) from None
        try:
            return cls.from_dict(data, source_path=str(p))
        except ScenarioError as e:
            if e.path is None:
                raise ScenarioError(str(e), path=p) from None
            raise

    @classmethod
    def from_dict(cls, data: dict, source_path: str | None = None) -> "Scenario":
        """Build from the TOML structure (top-level keys plus receiver/channel tables and
        devices/presses/attacks/clutter arrays of tables)."""
        known = {"name", "description", "duration_s", "seed", "receiver", "channel", "devices",
                 "presses", "attacks", "clutter"}
        _no_unknown(data, known, "top level")
        rx = dict(data.get("receiver", {}))
        _no_unknown(rx, {f.name for f in dc_fields(RtlSdr)}, "[receiver]")
        if "dc_offset" in rx:
            v = rx["dc_offset"]
            rx["dc_offset"] = complex(v[0], v[1]) if isinstance(v, list) else complex(v)
        if "position" in rx:
            rx["position"] = _pos(rx["position"], "[receiver] position")
        ch = dict(data.get("channel", {}))
        _no_unknown(ch, {f.name for f in dc_fields(ChannelModel)}, "[channel]")
        if "k_factor_db" in ch:
            k = ch["k_factor_db"]
            ch["k_factor_db"] = None if k == "rayleigh" else (math.inf if k == "none" else float(k))
        devices = [_build(Device, d, "[[devices]]") for d in data.get("devices", [])]
        presses = [_build(Press, d, "[[presses]]") for d in data.get("presses", [])]
        attacks = []
        for a in data.get("attacks", []):
            a = dict(a)
            kind = a.pop("type", None)
            if kind not in ATTACKS:
                raise ScenarioError(f"[[attacks]] type {kind!r} is not one of {', '.join(ATTACKS)}")
            attacks.append(_build(ATTACKS[kind], a, f"[[attacks]] {kind}"))
        clutter = [make_clutter(c) for c in data.get("clutter", [])]
        try:
            seed = int(data.get("seed", 0))
            dur = float(data.get("duration_s", 30.0))
        except (TypeError, ValueError):
            raise ScenarioError("seed must be an integer and duration_s a number") from None
        return cls(name=str(data.get("name", Path(source_path).stem if source_path else "scenario")),
                   duration_s=dur, receiver=rx, channel=_build(ChannelModel, ch, "[channel]"),
                   devices=devices, presses=presses, attacks=attacks, clutter=clutter, seed=seed,
                   description=str(data.get("description", "")), source_path=source_path)

    # planning --------------------------------------------------------------------------------
    def plan(self, seed: int | None = None, frame_source: FrameSource | None = None) -> "Rendering":
        """Emissions and ground truth for this scenario and seed (nothing rendered yet)."""
        seed = self.seed if seed is None else int(seed)
        if frame_source is None:
            from keyguard.sim.frames import protocol_frames

            frame_source = protocol_frames
        try:
            receiver = draw_rtl_sdr(rng_for(seed, "receiver"), **self.receiver)
        except TypeError as e:
            raise ScenarioError(f"[receiver]: {e}") from None
        ctx = PlanContext(self, Scene(receiver, self.channel, seed), frame_source, seed)
        return ctx.run()


def _no_unknown(d: dict, known: set, where: str) -> None:
    bad = sorted(set(d) - known)
    if bad:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")


def _build(cls, d: dict, where: str):
    if not isinstance(d, dict):
        raise ScenarioError(f"{where}: expected a table, got {d!r}")
    known = {f.name for f in dc_fields(cls) if not f.name.startswith("_")}
    if cls is Press:
        known -= {"counter", "index"}  # assigned by the planner, not by users
    _no_unknown(d, known, where)
    try:
        return cls(**d)
    except ScenarioError:
        raise
    except (TypeError, ValueError) as e:
        raise ScenarioError(f"{where}: {e}") from None


class PlanContext:
    """The state of one planning pass; attacks and clutter call into it (see attacks.py)."""

    def __init__(self, scenario: Scenario, scene: Scene, frame_source: FrameSource, seed: int):
        self.scenario = scenario
        self.scene = scene
        self.seed = seed
        self.duration_s = scenario.duration_s
        self.frame_source = frame_source
        self._devices = {d.id: d for d in scenario.devices}
        self._presses: list[Press] = [Press(**{f.name: getattr(p, f.name) for f in dc_fields(p)})
                                      for p in scenario.presses]
        self._emissions: list[Emission] = []
        self._truth: list[TruthEvent] = []
        self._tx: dict = {}
        self._radios: dict = {}
        self._nominal: dict = {}
        self._timed: dict = {}
        self._power: dict = {}
        self._identity: dict = {}

    # devices and radios -------------------------------------------------------------------------
    def device(self, dev_id: str) -> Device:
        if dev_id not in self._devices:
            known = ", ".join(sorted(self._devices)) or "none"
            raise ScenarioError(f"unknown device {dev_id!r}; devices: {known}")
        return self._devices[dev_id]

    def add_device(self, dev_id: str, protocol: str, **kw) -> Device:
        if dev_id in self._devices:
            raise ScenarioError(f"device id {dev_id!r} used twice")
        self._devices[dev_id] = Device(id=dev_id, protocol=protocol, **kw)
        return self._devices[dev_id]

    def transmitter(self, dev_id: str, position=None) -> Transmitter:
        """The device's radio (fingerprint drawn once per device and seed), at a position."""
        dev = self.device(dev_id)
        if dev_id not in self._tx:
            fp = draw_fingerprint(rng_for(self.seed, "fingerprint", dev_id), dev.device_class)
            try:
                fp = fp.with_overrides(dev.fingerprint)
            except ValueError as e:
                raise ScenarioError(f"device {dev_id}: {e}") from None
            self._tx[dev_id] = Transmitter(dev_id, fp, dev.freq_hz, dev.position, dev.device_class)
        tx = self._tx[dev_id]
        if position is not None and tuple(position) != tuple(tx.position):
            return Transmitter(tx.name, tx.fingerprint, tx.freq_hz, tuple(position), tx.device_class)
        return tx

    def radio(self, name: str, device_class: str, position, freq_hz: float) -> Transmitter:
        """An attack or clutter radio with its own fingerprint (drawn from the seed by name)."""
        if name not in self._radios:
            fp = draw_fingerprint(rng_for(self.seed, "fingerprint", name), device_class)
            self._radios[name] = Transmitter(name, fp, freq_hz, tuple(position), device_class)
        r = self._radios[name]
        if tuple(position) != tuple(r.position) or freq_hz != r.freq_hz:
            return Transmitter(name, r.fingerprint, freq_hz, tuple(position), device_class)
        return r

    def tx_power_dbm(self, dev_id: str) -> float:
        """Transmit power of a device; with ``snr_db`` it is set so that, from its home position,
        the mean received SNR is that value."""
        if dev_id not in self._power:
            dev, tx = self.device(dev_id), self.transmitter(dev_id)
            if dev.snr_db is not None:
                self._power[dev_id] = (self.scene.receiver.noise_dbm + dev.snr_db
                                       + self.scene.link(tx).loss_db)
            else:
                self._power[dev_id] = tx.fingerprint.tx_power_dbm
        return self._power[dev_id]

    def rx_power_dbm(self, dev_id: str) -> float:
        """Mean received carrier power (dBm) of a device from its home position (no fading)."""
        return self.scene.link(self.transmitter(dev_id)).rx_power_dbm(self.tx_power_dbm(dev_id))

    # presses and codes ----------------------------------------------------------------------------
    def new_press(self, dev_id: str, t: float, button: int | None = None, **kw) -> Press:
        self.device(dev_id)
        p = Press(dev_id, float(t), button, **kw)
        self._presses.append(p)
        return p

    add_press = new_press

    def presses_of(self, dev_id: str) -> list[Press]:
        return [p for p in self._presses if p.device == dev_id]

    def first_counter(self, dev_id: str) -> int:
        own = [p.counter for p in self.presses_of(dev_id) if p.counter is not None]
        return min(own) if own else self.device(dev_id).counter

    def last_counter(self, dev_id: str, t: float) -> int:
        own = [p.counter for p in self.presses_of(dev_id) if p.counter is not None and p.t <= t]
        return max(own) if own else self.device(dev_id).counter

    def code(self, p: Press) -> dict:
        return self.device(p.device).code_fields(p.counter, p.button)

    def press_tag(self, p: Press) -> tuple:
        return ("press", p.device, p.index)

    def frames_for(self, dev_id: str, overrides: dict | None = None, counter: int | None = None,
                   button: int | None = None, hold_s: float = 0.0,
                   repeats: int | None = None) -> list[PulseTrain]:
        dev = self.device(dev_id)
        f = dev.code_fields(counter, button)
        f.update(overrides or {})
        req = FrameRequest(dev.protocol, f, hold_s, repeats)
        try:
            frames = list(self.frame_source(req))
        except ScenarioError:
            raise
        except (KeyError, ValueError) as e:
            raise ScenarioError(f"device {dev_id}: cannot encode a {dev.protocol} frame from "
                                f"{sorted(f)}: {e}") from None
        if not frames:
            raise ScenarioError(f"device {dev_id}: the {dev.protocol} encoder gave no frames")
        if dev.fsk_deviation_hz is not None:
            for fr in frames:
                fr.fsk_deviation_hz = dev.fsk_deviation_hz
        return frames

    def describe(self, dev_id: str, frames: list[PulseTrain]) -> dict:
        """Identity and code of frames as the decoder reports them (when the frame source can
        tell; {} otherwise)."""
        fn = getattr(self.frame_source, "describe", None)
        return fn(self.device(dev_id).protocol, frames) if fn is not None else {}

    def identity(self, dev_id: str) -> str | None:
        """The device's identity as the decoder writes it (``keeloq:0D36C681``)."""
        if dev_id not in self._identity:
            dev = self.device(dev_id)
            got = self.describe(dev_id, self.frames_for(dev_id, counter=dev.counter, repeats=1))
            self._identity[dev_id] = got.get("identity", dev.identity) if got else dev.identity
        return self._identity[dev_id]

    def passive_entry_button(self, dev_id: str) -> int | None:
        """The button status of the device's passive-entry answers (its profile's
        ``[passive_entry]``), None when the profile tells them from button presses by no
        button value."""
        fn = getattr(self.frame_source, "passive_entry_fields", None)
        got = fn(self.device(dev_id).protocol) if fn is not None else {}
        return got.get("button")

    def field_width(self, dev_id: str, name: str) -> int:
        """Width (bits) of a protocol field, for code scanning (24 when nobody can tell)."""
        fn = getattr(self.frame_source, "field_width", None)
        w = fn(self.device(dev_id).protocol, name) if fn is not None else None
        if w is None and name == "serial" and self.device(dev_id).protocol.startswith("keeloq"):
            w = 28
        return int(w) if w else 24

    def nominal(self, p: Press) -> list[PulseTrain]:
        key = id(p)
        if key not in self._nominal:
            # a radio that sends its own number of frames per press (fingerprint.repeats)
            self._nominal[key] = self.frames_for(p.device, counter=p.counter, button=p.button,
                                                 hold_s=p.hold_s,
                                                 repeats=self.transmitter(p.device).fingerprint.repeats)
        return self._nominal[key]

    def timed(self, p: Press) -> list[TimedFrame]:
        key = id(p)
        if key not in self._timed:
            tx = self.transmitter(p.device, p.position)
            self._timed[key] = self.scene.timed_frames(tx, self.nominal(p), p.t, self.press_tag(p))
        return self._timed[key]

    def captured(self, p: Press) -> Captured:
        return Captured(self.code(p), self.nominal(p), self.timed(p),
                        self.transmitter(p.device, p.position), self.press_tag(p), p.t)

    def virtual_capture(self, dev_id: str, counter: int, button: int | None, tag: tuple) -> Captured:
        """A code the attacker holds but that is not sent by the owner in this capture."""
        dev = self.device(dev_id)
        nominal = self.frames_for(dev_id, counter=counter, button=button)
        tx = self.transmitter(dev_id)
        rf_tag = ("virtual", dev_id, *tag)
        timed = self.scene.timed_frames(tx, nominal, 0.0, rf_tag)
        return Captured(dev.code_fields(counter, button), nominal, timed, tx, rf_tag, None)

    # output of planning ------------------------------------------------------------------------
    def emit(self, e: Emission) -> None:
        self._emissions.append(e)

    def emit_many(self, es) -> None:
        self._emissions.extend(es)

    def truth(self, kind: str, t: float, t_end: float, identity: str | None, source: str,
              params: dict) -> None:
        if kind not in TRUTH_KINDS:
            raise ValueError(f"unknown truth kind {kind!r}")
        self._truth.append(TruthEvent(kind, float(t), float(t_end), identity, source, params))

    # the pass ------------------------------------------------------------------------------------
    def run(self) -> "Rendering":
        sc = self.scenario
        for c in sc.clutter:
            if isinstance(c, OtherFobs):
                c.plan(self)
        for a in sc.attacks:
            a.victim_presses(self)
        # expand double presses, check times, number each device's presses in time order
        extra = []
        for p in self._presses:
            self.device(p.device)
            if p.double:
                # press, release, press again: the second press follows the first one's hold
                extra.append(Press(p.device, p.t + p.hold_s + p.double_gap_s, p.button, p.hold_s, by=p.by,
                                   jammed=p.jammed, position=p.position))
        self._presses.extend(extra)
        for p in self._presses:
            if not 0.0 <= p.t < sc.duration_s:
                raise ScenarioError(f"press of {p.device} at t={p.t} s is outside the capture "
                                    f"(0..{sc.duration_s} s)")
        for dev_id in sorted({p.device for p in self._presses}):
            own = sorted(self.presses_of(dev_id), key=lambda q: q.t)
            dev = self.device(dev_id)
            for i, p in enumerate(own):
                p.index = i
                p.counter = dev.counter + i if dev.rolling else None
        for p in sorted(self._presses, key=lambda q: (q.t, q.device)):
            self._emit_press(p)
        for c in sc.clutter:
            if not isinstance(c, OtherFobs):
                c.plan(self)
        for a in sc.attacks:
            mine = [p for p in self._presses if p.by == getattr(a, "name", None)]
            a.plan(self, sorted(mine, key=lambda q: q.t))
        self._truth.sort(key=lambda e: (e.t, e.kind, e.source))
        return Rendering(sc, self.seed, self.scene, self._emissions, self._truth, self._describe())

    def _emit_press(self, p: Press) -> None:
        tx = self.transmitter(p.device, p.position)
        timed = self.timed(p)
        power = self.tx_power_dbm(p.device)
        self.emit_many(self.scene.emit_frames(tx, timed, self.press_tag(p), power_dbm=power,
                                              source=p.device))
        lo, hi = frames_span(timed)
        link = self.scene.link(tx)
        rx_dbm = link.rx_power_dbm(power)
        dev = self.device(p.device)
        seen = self.describe(p.device, self.nominal(p))
        self.truth("press", lo, hi, self.identity(p.device), p.device, {
            "protocol": dev.protocol, "serial": dev.serial, "button": self.code(p).get("button"),
            "code": seen.get("code"), "data": seen.get("data"),
            "counter": self.code(p).get("counter"), "hold_s": p.hold_s, "frames": len(timed),
            "jammed": p.jammed,
            "by": p.by, "freq_hz": tx.carrier_hz, "baseband_offset_hz": self.scene.offset_hz(tx),
            "rx_power_dbm": rx_dbm, "snr_db": rx_dbm - self.scene.receiver.noise_dbm,
            "distance_m": link.distance_m})

    def _describe(self) -> dict:
        devs = {}
        for dev_id, dev in sorted(self._devices.items()):
            tx = self.transmitter(dev_id)
            devs[dev_id] = {"protocol": dev.protocol, "serial": dev.serial, "identity": self.identity(dev_id),
                            "freq_hz": dev.freq_hz, "position": list(dev.position),
                            "class": dev.device_class, "tx_power_dbm": self.tx_power_dbm(dev_id),
                            "fingerprint": tx.fingerprint.to_dict()}
        radios = {name: {"class": r.device_class, "freq_hz": r.freq_hz, "position": list(r.position),
                         "fingerprint": r.fingerprint.to_dict()} for name, r in sorted(self._radios.items())}
        return {"devices": devs, "radios": radios}


class Rendering:
    """A planned scenario: receiver, emissions and ground truth; render with :meth:`chunks`."""

    def __init__(self, scenario: Scenario, seed: int, scene: Scene, emissions: list[Emission],
                 truth: list[TruthEvent], description: dict):
        self.scenario = scenario
        self.seed = seed
        self.scene = scene
        self.receiver: RtlSdr = scene.receiver
        self.emissions = emissions
        self.truth = truth
        self.description = description

    @property
    def sample_rate(self) -> float:
        return float(self.receiver.sample_rate)

    @property
    def num_samples(self) -> int:
        return int(round(self.scenario.duration_s * self.sample_rate))

    def chunks(self, chunk: int = CHUNK, progress: bool = False) -> Iterator[np.ndarray]:
        """The capture's ADC samples (complex64, full scale ±1) in chunks; bounded memory."""
        it = render_chunks(self.emissions, self.receiver, self.num_samples, self.seed, chunk)
        if not progress:
            yield from it
            return
        from tqdm import tqdm

        with tqdm(total=self.num_samples, unit="Sa", unit_scale=True,
                  desc=f"rendering {self.scenario.name}", leave=False) as bar:
            for x in it:
                bar.update(x.size)
                yield x

    def render(self) -> np.ndarray:
        """The whole capture in memory (short scenarios and tests)."""
        parts = list(self.chunks())
        return np.concatenate(parts) if parts else np.zeros(0, np.complex64)

    def capture(self):
        """The whole capture as a :class:`keyguard.io.capture.Capture` (in memory)."""
        from keyguard.io.capture import Capture

        return Capture.from_array(self.render(), self.sample_rate, self.receiver.center_freq,
                                  path=f"<sim:{self.scenario.name}>")

    def truth_dict(self) -> dict:
        """Everything ``truth.json`` holds: scenario, seed, receiver, devices, events."""
        return {"scenario": self.scenario.name, "description": self.scenario.description,
                "seed": self.seed, "duration_s": self.scenario.duration_s,
                "sample_rate": self.sample_rate, "center_freq": self.receiver.center_freq,
                "num_samples": self.num_samples,
                "receiver": dict(self.receiver.to_dict(), noise_dbm=self.receiver.noise_dbm,
                                 full_scale_dbm=self.receiver.full_scale_dbm,
                                 lo_hz=self.receiver.lo_hz,
                                 image_rejection_db=self.receiver.image_rejection_db),
                **self.description,
                "events": [e.to_dict() for e in self.truth]}


# ---------------------------------------------------------------------------------------------
# the library of named scenarios shipped with the package
# ---------------------------------------------------------------------------------------------
SCENARIO_DIR = Path(__file__).resolve().with_name("scenarios")


def list_scenarios() -> dict[str, str]:
    """Named scenarios shipped in ``keyguard/sim/scenarios``: name → description."""
    out = {}
    for p in sorted(SCENARIO_DIR.glob("*.toml")):
        try:
            desc = str(tomllib.loads(p.read_text(encoding="utf-8")).get("description", ""))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            desc = "(unreadable)"
        out[p.stem] = desc
    return out


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A scenario from a TOML path, or by name from the shipped library (``rolljam``)."""
    p = Path(name_or_path)
    if p.suffix.lower() != ".toml" and not p.exists():
        lib = SCENARIO_DIR / f"{p.name}.toml"
        if lib.is_file():
            return Scenario.from_toml(lib)
        raise ScenarioError(f"no scenario file or named scenario {str(name_or_path)!r}",
                            hint=f"named scenarios: {', '.join(list_scenarios()) or 'none'}")
    return Scenario.from_toml(p)
