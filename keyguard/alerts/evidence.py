"""Evidence clips: the IQ around each alert, kept from a ring buffer and written as SigMF.

:class:`IQRingBuffer` holds the last few seconds of a stream in a fixed array (bounded memory,
optionally as cu8 bytes: a quarter of complex64). :class:`EvidenceRecorder` takes alerts and,
once the stream has run ``post_s`` past an alert's end, writes ``[t − pre_s, t_end + post_s]``
with :func:`write_clip`: a SigMF pair whose metadata carries the sample rate, centre frequency,
the UTC time of the first sample, the receiver, ``core:sha512`` of the data, and the alert itself
as an annotation, so an analyst can re-run ``keyguard scan`` on the clip.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from keyguard import __version__
from keyguard.events import dumps
from keyguard.io.capture import SampleBlock
from keyguard.io.raw import SAMPLE_FORMATS
from keyguard.io.sigmf_io import write_sigmf
from keyguard.io.writers import encode

#: The SigMF extension namespace of the ``keyguard:`` annotation keys.
KEYGUARD_EXTENSION = {"name": "keyguard", "version": __version__, "optional": True}

#: How the ring can hold samples: complex64, or cu8 bytes (a quarter of the memory).
STORES = ("cf32", "cu8")


class IQRingBuffer:
    """The newest ``seconds`` of a stream, indexed by the stream's sample numbers.

    store: ``cf32`` (complex64, exact) or ``cu8`` (2 bytes a sample; exact for RTL sources).
    Samples lost in the stream (a block's ``start`` jumps ahead) are held as zeros and listed in
    :attr:`gaps` so a clip can mark them.
    """

    def __init__(self, sample_rate: float, seconds: float = 8.0, store: str = "cf32"):
        if store not in STORES:
            raise ValueError(f"store must be one of {', '.join(STORES)}")
        self.sample_rate = float(sample_rate)
        self.store = store
        self.capacity = max(1, int(math.ceil(seconds * self.sample_rate)))
        width = 2 if store == "cu8" else 1
        self._buf = np.zeros(self.capacity * width,
                             dtype=np.uint8 if store == "cu8" else np.complex64)
        self.end = 0  # stream index just after the newest sample held
        self.held = 0  # samples held (≤ capacity)
        self.gaps: list[tuple[int, int]] = []  # [start, stop) stream indices of lost samples
        self._clock: tuple[int, datetime] | None = None  # a stream index and its UTC time

    @property
    def first(self) -> int:
        """Stream index of the oldest sample held."""
        return self.end - self.held

    def time_of(self, index: int) -> datetime | None:
        """UTC time of a stream index, from the newest dated block (None if never dated)."""
        if self._clock is None:
            return None
        i0, t0 = self._clock
        return t0 + timedelta(seconds=(index - i0) / self.sample_rate)

    def push(self, block: SampleBlock) -> None:
        """Append a block's new samples (its leading ``overlap`` is already held)."""
        start = block.start + block.overlap
        new = block.samples[block.overlap:]
        t = getattr(block, "time", None)
        if t is not None:
            self._clock = (block.start, t)
        if self.held and start < self.end:  # more overlap than declared: skip what we have
            new = new[self.end - start:]
            start = self.end
        if self.held and start > self.end:
            self.gaps.append((self.end, start))
            self._write(np.zeros(min(start - self.end, self.capacity), dtype=np.complex64),
                        start - min(start - self.end, self.capacity))
        elif not self.held:
            self.end = start
        self._write(new, start)
        self.gaps = [(a, b) for a, b in self.gaps if b > self.first]

    def _write(self, x: np.ndarray, start: int) -> None:
        if x.size > self.capacity:
            start += x.size - self.capacity
            x = x[-self.capacity:]
        n = x.size
        if n == 0:
            return
        data = encode(x, "cu8") if self.store == "cu8" else np.asarray(x, np.complex64)
        w = 2 if self.store == "cu8" else 1
        pos = (start % self.capacity) * w
        first = min(n * w, self._buf.size - pos)
        self._buf[pos:pos + first] = data[:first]
        self._buf[:n * w - first] = data[first:]
        self.end = start + n
        self.held = min(self.capacity, self.held + n) if self.held else n

    def get(self, start: int, stop: int) -> tuple[int, np.ndarray]:
        """(first index, stored data) for ``[start, stop)`` clipped to what is held.

        The data are complex64 samples, or interleaved cu8 bytes when ``store`` is cu8.
        """
        start, stop = max(start, self.first), min(stop, self.end)
        if stop <= start:
            return start, self._buf[:0].copy()
        w = 2 if self.store == "cu8" else 1
        idx = (np.arange(start, stop) % self.capacity) if w == 1 else None
        if w == 1:
            return start, self._buf[idx]
        a = (start % self.capacity) * 2
        n = (stop - start) * 2
        out = np.concatenate([self._buf[a:a + n], self._buf[:max(0, a + n - self._buf.size)]])
        return start, out

    def samples(self, start: int, stop: int) -> tuple[int, np.ndarray]:
        """Like :meth:`get` but always complex64 samples."""
        first, data = self.get(start, stop)
        return first, SAMPLE_FORMATS["cu8"].to_complex(data) if self.store == "cu8" else data


@dataclass
class ClipInfo:
    """A written evidence clip: the SigMF pair, its data hash, and where it sits in the stream."""

    meta_path: Path
    data_path: Path
    sha512: str
    sample_start: int  # stream index of the clip's first sample
    num_samples: int


def write_clip(base: str | os.PathLike, samples: np.ndarray, sample_rate: float, *,
               alert: dict, alert_start: int, alert_count: int, fmt: str = "cf32",
               center_freq: float | None = None, start_time: datetime | None = None,
               hw: str | None = None, source: str | None = None, source_start: int = 0,
               gaps: list[tuple[int, int]] = (), description: str | None = None) -> ClipInfo:
    """Write ``base.sigmf-data`` and ``base.sigmf-meta`` for one alert (SHA-512 in the meta).

    samples: complex64, stored as ``fmt`` (``cf32`` or ``cu8``). alert: the contract record
    (dict); alert_start / alert_count: its span in clip samples. start_time: UTC of the clip's
    first sample. source / source_start: the stream it came from and the stream index of the
    clip's first sample (``t`` in the alert is source_start / sample_rate later than in a scan
    of the clip). gaps: ``[start, stop)`` clip-relative spans of samples the receiver lost
    (held as zeros), annotated as such.
    """
    base = Path(base)
    n = int(samples.size)
    a0 = min(max(0, int(alert_start)), max(0, n - 1))
    annotations = [{
        "core:sample_start": a0,
        "core:sample_count": max(1, min(int(alert_count), n - a0)),
        "core:label": str(alert.get("kind", "alert")),
        "core:comment": str(alert.get("summary", "")),
        "core:generator": f"keyguard {__version__}",
        "keyguard:alert": json.loads(dumps(alert)),
        "keyguard:source": source or alert.get("capture"),
        "keyguard:source_sample_start": int(source_start),
    }]
    for g0, g1 in gaps:
        g0, g1 = max(0, g0), min(n, g1)
        if g1 > g0:
            annotations.append({"core:sample_start": g0, "core:sample_count": g1 - g0,
                                "core:label": "dropped samples",
                                "core:comment": "samples lost by the receiver, stored as zeros"})
    desc = description or (f"keyguard evidence: {alert.get('kind')} alert at t={alert.get('t')} s "
                           f"of {source or alert.get('capture')}")
    meta_path = write_sigmf(base, samples, sample_rate, fmt=fmt, center_freq=center_freq,
                            start_time=start_time, hw=hw, annotations=annotations,
                            description=desc, extensions=[KEYGUARD_EXTENSION])
    sha = json.loads(meta_path.read_text())["global"]["core:sha512"]
    return ClipInfo(meta_path, base.with_name(base.name + ".sigmf-data"), sha,
                    int(source_start), n)


class EvidenceRecorder:
    """Keep a ring of recent IQ and write a SigMF clip for each alert handed to :meth:`request`.

    out_dir: where clips go. pre_s / post_s: seconds kept before the alert's ``t`` and after
    its ``t_end``. ring_s: ring length (memory: ring_s × rate × 8 bytes, or × 2 for cu8); a
    clip longer than the ring keeps its newest part. store: ``cf32`` or ``cu8``.
    on_clip: called with each :class:`ClipInfo` written; on_error: with one line when a clip
    cannot be written (counted in ``failed``; detection goes on).
    """

    def __init__(self, out_dir: str | os.PathLike, sample_rate: float, *,
                 center_freq: float | None = None, hw: str | None = None,
                 source: str | None = None, pre_s: float = 2.0, post_s: float = 2.0,
                 ring_s: float = 10.0, store: str = "cf32",
                 on_clip: Callable[[ClipInfo], None] | None = None,
                 on_error: Callable[[str], None] | None = None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.ring = IQRingBuffer(sample_rate, max(ring_s, pre_s + post_s), store)
        self.sample_rate = float(sample_rate)
        self.center_freq, self.hw, self.source = center_freq, hw, source
        self.pre, self.post = int(pre_s * sample_rate), int(post_s * sample_rate)
        self.on_clip, self.on_error = on_clip, on_error
        self.clips: list[ClipInfo] = []
        self.failed = 0
        self._pending: list[tuple[int, int, int, dict]] = []  # (clip start, stop, number, alert)
        self._count = 0

    def push(self, block: SampleBlock) -> None:
        """Add a stream block; writes the clips whose span the stream has now passed."""
        self.ring.push(block)
        self._write_ready(final=False)

    def request(self, alert: dict) -> None:
        """Ask for a clip around ``alert`` (a contract record with ``t`` and ``t_end`` in s)."""
        t0, t1 = float(alert["t"]), float(alert.get("t_end") or alert["t"])
        start = int(round(t0 * self.sample_rate)) - self.pre
        stop = int(round(t1 * self.sample_rate)) + self.post
        self._count += 1
        self._pending.append((max(0, start), stop, self._count, alert))
        self._write_ready(final=False)

    def finish(self) -> list[ClipInfo]:
        """At the end of the stream: write every pending clip with what is held."""
        self._write_ready(final=True)
        return self.clips

    def _write_ready(self, final: bool) -> None:
        keep = []
        for start, stop, number, alert in self._pending:
            if final or self.ring.end >= stop:
                self._write(start, stop, number, alert)
            else:
                keep.append((start, stop, number, alert))
        self._pending = keep

    def _write(self, start: int, stop: int, number: int, alert: dict) -> None:
        first, samples = self.ring.samples(start, stop)
        n = samples.size
        if n == 0:
            # the alert was decided after its IQ left the ring: say so, never drop it silently
            self.failed += 1
            if self.on_error:
                self.on_error(f"evidence clip for alert {number} ({alert.get('kind')} at "
                              f"t={float(alert['t']):.3f} s) not written: its IQ left the "
                              f"{self.ring.capacity / self.ring.sample_rate:g} s ring before the alert was decided")
            return
        a0 = int(round(float(alert["t"]) * self.sample_rate)) - first
        a1 = int(round(float(alert.get("t_end") or alert["t"]) * self.sample_rate)) - first
        gaps = [(g0 - first, g1 - first) for g0, g1 in self.ring.gaps if g1 > first]
        kind = str(alert.get("kind", "alert"))
        when = self.ring.time_of(first)
        stamp = when.strftime("%Y%m%dT%H%M%S") + "-" if when is not None else ""
        name = f"{stamp}alert-{number:04d}-{kind}-t{float(alert['t']):.3f}s"
        base, k = self.out_dir / name, 1
        while base.with_name(base.name + ".sigmf-meta").exists():  # an earlier run's clip
            k += 1
            base = self.out_dir / f"{name}-{k}"
        try:
            clip = write_clip(base, samples, self.sample_rate, alert=alert, alert_start=a0,
                              alert_count=max(1, a1 - a0), fmt=self.ring.store,
                              center_freq=self.center_freq,
                              start_time=when.astimezone(timezone.utc) if when else None,
                              hw=self.hw, source=self.source, source_start=first, gaps=gaps)
        except (OSError, ValueError) as e:  # a full disk must not stop detection
            self.failed += 1
            if self.on_error is not None:
                self.on_error(f"evidence clip {base.name} not written: {e}")
            return
        self.clips.append(clip)
        if self.on_clip is not None:
            self.on_clip(clip)
