"""Writing a rendered scenario: the capture, its SigMF metadata with the ground truth, truth.json.

Files, named the rtl_433 way so every tool reads centre and rate from the name
(``rolljam_433.92M_1024k.cu8``):

- ``NAME_<MHz>M_<ksps>k.<fmt>`` for cu8/cs8/cs16/cf32, with a SigMF sidecar
  ``NAME_….sigmf-meta`` beside it (``core:dataset`` names the raw file, a SigMF non-conforming
  dataset), or ``NAME_….sigmf-data`` + ``.sigmf-meta`` for ``sigmf`` (8-bit ``cu8`` data);
- annotations: one per ground-truth event (``core:label`` = kind, ``core:comment`` = a sentence,
  the band edges when the event has a carrier, and ``keyguard:*`` fields with the identity, the
  source and the physical parameters);
- ``truth.json``: the whole ground truth (receiver, devices with fingerprints, events).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from keyguard import __version__
from keyguard.events import dumps
from keyguard.sim.scenario import Rendering, TruthEvent

OUTPUT_FORMATS = ("cu8", "cs8", "cs16", "cf32", "sigmf")

#: Annotation bandwidth (Hz) drawn around a carrier for events that have one.
EVENT_BANDWIDTH_HZ = {"jamming": 100e3, "benign": 80e3}
DEFAULT_EVENT_BANDWIDTH_HZ = 50e3

EXTENSION = {"name": "keyguard", "version": __version__, "optional": True}


@dataclass(frozen=True)
class SimOutput:
    """What was written: the capture (data file), its metadata and the truth file."""

    data: Path
    meta: Path
    truth: Path
    num_samples: int


def capture_basename(name: str, center_freq: float, sample_rate: float) -> str:
    """``name_433.92M_1024k`` (rtl_433's convention: MHz with M, ksps with k)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name) or "scenario"
    return f"{safe}_{center_freq / 1e6:g}M_{sample_rate / 1e3:g}k"


def event_sentence(e: TruthEvent) -> str:
    """A one-line description of a ground-truth event."""
    p = e.params
    who = e.identity or e.source
    if e.kind == "press":
        s = f"genuine press of {who}"
        if p.get("counter") is not None:
            s += f", counter {p['counter']}"
        if p.get("hold_s"):
            s += f", held {p['hold_s']:g} s"
        if p.get("jammed"):
            s += ", under jamming"
        return s
    if e.kind == "benign":
        return f"benign {p.get('device', 'device')} transmission ({e.source})"
    if e.kind == "jamming":
        s = f"{p.get('waveform', '')} jammer {e.source} at {p.get('offset_hz', 0) / 1e3:+g} kHz"
        if p.get("jsr_db") is not None:
            s += f", J/S {p['jsr_db']:.1f} dB"
        return s
    if e.kind == "relay":
        return f"{p.get('mode', '').upper()} relay of {who}"
    return f"{e.kind} of {who} by {e.source}" + (f" ({p['replayer']} replayer)" if "replayer" in p else "")


def annotations(r: Rendering) -> list[dict]:
    """SigMF annotations for every ground-truth event."""
    fs = r.sample_rate
    out = []
    for e in r.truth:
        start = max(0, int(math.floor(e.t * fs)))
        count = max(1, int(math.ceil(e.t_end * fs)) - start)
        a = {"core:sample_start": start, "core:sample_count": count, "core:label": e.kind,
             "core:comment": event_sentence(e), "keyguard:kind": e.kind,
             "keyguard:source": e.source, "keyguard:params": json.loads(dumps(e.params))}
        if e.identity is not None:
            a["keyguard:identity"] = e.identity
        f = e.params.get("freq_hz")
        if isinstance(f, (int, float)) and f:
            bw = EVENT_BANDWIDTH_HZ.get(e.kind, DEFAULT_EVENT_BANDWIDTH_HZ)
            a["core:freq_lower_edge"] = float(f) - bw / 2
            a["core:freq_upper_edge"] = float(f) + bw / 2
        out.append(a)
    return out


def write_rendering(r: Rendering, out_dir: str | Path, fmt: str = "cu8", *, progress: bool = False,
                    overwrite: bool = False) -> SimOutput:
    """Render ``r`` chunk by chunk into ``out_dir`` (created if needed) and write its metadata."""
    from keyguard.io.sigmf_io import write_sigmf
    from keyguard.io.writers import write_iq

    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; use one of {', '.join(OUTPUT_FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = capture_basename(r.scenario.name, r.receiver.center_freq, r.sample_rate)
    ann = annotations(r)
    desc = f"keyguard simulation of scenario {r.scenario.name!r}, seed {r.seed}"
    if r.scenario.description:
        desc += f": {r.scenario.description}"
    hw = (f"simulated RTL-SDR (tuner {r.receiver.ppm:+.1f} ppm, gain {r.receiver.gain_db:g} dB, "
          f"NF {r.receiver.noise_figure_db:g} dB)")
    chunks = r.chunks(progress=progress)
    if fmt == "sigmf":
        meta = write_sigmf(out / base, chunks, r.sample_rate, fmt="cu8",
                           center_freq=r.receiver.center_freq, hw=hw, annotations=ann,
                           description=desc, author=f"keyguard {__version__} simulator",
                           overwrite=overwrite, extensions=[EXTENSION])
        data = meta.with_name(base + ".sigmf-data")
    else:
        data = out / f"{base}.{fmt}"
        written = write_iq(data, chunks, fmt, overwrite=overwrite, sha512=True)
        meta = _write_sidecar(out / f"{base}.sigmf-meta", data.name, fmt, written.sha512, r, ann,
                              hw, desc, overwrite)
    truth = out / "truth.json"
    doc = r.truth_dict()
    doc["capture"] = data.name
    doc["format"] = fmt
    doc["generator"] = f"keyguard {__version__}"
    truth.write_text(json.dumps(json.loads(dumps(doc)), indent=1) + "\n", encoding="utf-8")
    return SimOutput(data=data, meta=meta, truth=truth, num_samples=r.num_samples)


def _write_sidecar(path: Path, data_name: str, fmt: str, sha512: str, r: Rendering, ann: list[dict],
                   hw: str, desc: str, overwrite: bool) -> Path:
    """A SigMF metadata file describing a raw capture beside it (non-conforming dataset)."""
    from sigmf import SigMFFile

    from keyguard.io.sigmf_io import SIGMF_DATATYPES

    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)")
    g = {"core:datatype": SIGMF_DATATYPES[fmt], "core:sample_rate": float(r.sample_rate),
         "core:sha512": sha512, "core:dataset": data_name, "core:hw": hw,
         "core:description": desc, "core:recorder": f"keyguard {__version__} simulator",
         "core:extensions": [EXTENSION]}
    sm = SigMFFile(global_info=g)
    sm.add_capture(0, metadata={"core:frequency": float(r.receiver.center_freq)})
    for a in ann:
        a = dict(a)
        start = a.pop("core:sample_start")
        count = a.pop("core:sample_count")
        sm.add_annotation(start, count, metadata=a)
    sm.validate()
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w") as f:
        sm.dump(f, pretty=True)
        f.write("\n")
    tmp.replace(path)
    return path
