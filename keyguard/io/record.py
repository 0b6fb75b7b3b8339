"""The contract's ``capture`` record for an opened Capture (``keyguard info``, ``scan``...)."""

from __future__ import annotations

from keyguard.events import CaptureRecord
from keyguard.io.capture import Capture
from keyguard.io.levels import LevelStats


def capture_record(capture: Capture, levels: LevelStats | None = None) -> CaptureRecord:
    """A :class:`~keyguard.events.CaptureRecord` with keyguard's additions after the contract's
    fields: num_samples, assumed, hw, annotations (count), warnings, pulse-capture details and,
    when ``levels`` is given, noise_floor_dbfs, peak_dbfs, mean_power_dbfs, clipping_fraction,
    dc_offset_dbfs and clipped."""
    extra: dict = {
        "num_samples": int(capture.num_samples),
        "assumed": list(capture.assumed),
        "hw": capture.hw,
        "annotations": len(capture.annotations),
    }
    if capture.pulse_trains is not None:
        extra["bursts"] = len(capture.pulse_trains)
        sub = capture.extra.get("sub")
        if sub:
            extra["decoded"] = {k: sub[k] for k in ("protocol", "bit", "key") if k in sub}
    if levels is not None:
        extra.update(levels.as_dict())
        extra["clipped"] = levels.clipped
    extra["warnings"] = list(capture.warnings)
    return CaptureRecord(capture=capture.path, sha256=capture.sha256, format=capture.format,
                         sample_rate=capture.sample_rate, center_freq=capture.center_freq,
                         start_time=capture.start_time, duration=capture.duration, extra=extra)
