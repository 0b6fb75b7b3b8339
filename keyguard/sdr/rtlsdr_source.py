"""RTL-SDR dongle source through pyrtlsdr's asynchronous (streaming) read.

librtlsdr calls back with each USB buffer in the reader thread; the buffer is copied into the
source's bounded queue. Two kinds of loss are counted, never hidden: blocks the pipeline could
not take (queue full), and USB overruns, seen as a sudden jump of the wall clock ahead of the
sample clock (librtlsdr does not report them). A dongle that disappears is re-opened with back-off.
"""

from __future__ import annotations

import time

import numpy as np

from keyguard.errors import InputError, SourceError
from keyguard.sdr.source import QUEUE_S, EventCallback, Source, backoff_delays

#: Rates librtlsdr accepts (Hz): 225001–300000 and 900001–3200000; above 2.4 Msps the RTL2832U
#: loses samples on most hosts, so keyguard stops there.
RTL_RATE_RANGES = ((225_001.0, 300_000.0), (900_001.0, 2_400_000.0))


class SourceOptionError(InputError):
    """A live-source option (rate, gain, device) is out of the hardware's range."""


def check_rtl_sample_rate(sample_rate: float) -> float:
    """``sample_rate`` if an RTL-SDR can run at it, else SourceOptionError."""
    if not any(lo <= sample_rate <= hi for lo, hi in RTL_RATE_RANGES):
        raise SourceOptionError(f"sample rate {sample_rate:g} Hz is not one an RTL-SDR can stream",
                                hint="use 225001–300000 Hz or 900001–2400000 Hz, e.g. 2.4M")
    return float(sample_rate)


def no_dongle_message(device_index: int) -> str:
    return (f"no RTL-SDR dongle found (device index {device_index}): "
            f"plug one in or use --rtl-tcp/--replay")


class RtlSdrSource(Source):
    """A USB RTL-SDR dongle.

    device_index or serial (the EEPROM serial string) picks the dongle. center_freq,
    sample_rate: Hz (sample rate ≤ 2.4 Msps). gain: ``"auto"`` (tuner AGC) or dB (nearest step).
    ppm: frequency correction. bias_tee: power an LNA (RTL-SDR Blog v3 and later; a warning if
    the dongle or library cannot). overrun_slack_s: a jump of the wall clock ahead of the sample
    clock larger than this (s) counts as lost samples. max_reconnects: re-open attempts before
    giving up (None: forever).
    """

    def __init__(self, device_index: int = 0, *, serial: str | None = None,
                 center_freq: float = 433.92e6, sample_rate: float = 250_000.0,
                 gain: float | str = "auto", ppm: int = 0, bias_tee: bool = False,
                 block_s: float = 0.1, queue_s: float = QUEUE_S, overrun_slack_s: float = 0.25,
                 max_reconnects: int | None = None, backoff_initial_s: float = 0.5,
                 backoff_max_s: float = 30.0, on_event: EventCallback | None = None):
        check_rtl_sample_rate(sample_rate)
        uri = f"rtlsdr://serial={serial}" if serial else f"rtlsdr://{int(device_index)}"
        super().__init__(uri, sample_rate, center_freq, block_s=block_s, queue_s=queue_s,
                         on_event=on_event)
        self.device_index, self.serial = int(device_index), serial
        self.gain, self.ppm, self.bias_tee = gain, int(ppm), bool(bias_tee)
        self.overrun_slack = int(overrun_slack_s * self.sample_rate)
        self.max_reconnects = max_reconnects
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        # librtlsdr wants USB buffers in multiples of 512 bytes
        self.usb_bytes = max(512, (2 * self.block_size) // 512 * 512)
        self._sdr = None
        self._drift = 0.0  # slowly tracked clock difference (crystal ppm), samples

    # -- device -------------------------------------------------------------------------------
    def _open_device(self):
        try:
            import rtlsdr
        except (ImportError, OSError) as e:
            raise SourceError(f"cannot load librtlsdr ({e}): install pyrtlsdrlib, or use "
                              f"--rtl-tcp/--replay") from None
        index = self.device_index
        try:
            if self.serial is not None:
                index = rtlsdr.RtlSdr.get_device_index_by_serial(self.serial)
            sdr = rtlsdr.RtlSdr(device_index=index)
        except OSError as e:  # rtlsdr.rtlsdr.LibUSBError is an OSError
            raise SourceError(self._open_failure(rtlsdr, index, e)) from None
        try:
            sdr.sample_rate = self.sample_rate
            sdr.center_freq = self.center_freq
            if self.ppm:
                sdr.freq_correction = self.ppm
            sdr.gain = self.gain
        except OSError as e:
            sdr.close()
            raise SourceError(f"{self.uri}: cannot tune the dongle: {e}") from None
        if self.bias_tee:
            try:
                sdr.set_bias_tee(True)
            except (OSError, AttributeError) as e:
                self._event(f"{self.uri}: bias tee not supported here ({e}); continuing without")
        tuner = sdr.get_tuner_type() if hasattr(sdr, "get_tuner_type") else None
        self.hw = f"RTL-SDR (librtlsdr tuner type {tuner})" if tuner is not None else "RTL-SDR"
        return sdr

    def _open_failure(self, rtlsdr, index: int, e: OSError) -> str:
        code = getattr(e, "errno", None)
        if self.serial is not None and code == -2:
            return (f"no RTL-SDR dongle with serial {self.serial!r} found: check `rtl_test`, "
                    f"or use --rtl-tcp/--replay")
        if code == -3:
            return (f"permission denied on the RTL-SDR dongle (device index {index}): install "
                    f"the rtl-sdr udev rules or join the plugdev group")
        if code == -6:
            return (f"the RTL-SDR dongle (device index {index}) is busy: stop the program using "
                    f"it (rtl_tcp, rtl_433, the dvb_usb_rtl28xxu kernel driver)")
        try:
            count = int(rtlsdr.librtlsdr.librtlsdr.rtlsdr_get_device_count())
        except Exception:
            count = 0
        if index >= count:
            return no_dongle_message(index)
        return f"cannot open the RTL-SDR dongle (device index {index}): {e}"

    def _open(self) -> None:
        self._sdr = self._open_device()
        self._event(f"{self.uri}: opened {self.hw} at {self.center_freq:g} Hz, "
                    f"{self.sample_rate:g} Hz")

    def _release(self) -> None:
        if self._sdr is not None:
            try:
                self._sdr.close()
            except OSError:
                pass
            self._sdr = None

    def _interrupt(self) -> None:
        sdr = self._sdr
        if sdr is not None:
            try:
                sdr.cancel_read_async()
            except OSError:
                pass

    # -- streaming ----------------------------------------------------------------------------
    def _produce(self) -> None:
        while not self._stop.is_set():
            try:
                self._sdr.read_bytes_async(self._on_usb, self.usb_bytes)
            except OSError as e:
                if self._stop.is_set():
                    return
                self._event(f"{self.uri}: USB read failed ({e}); re-opening the dongle")
            else:
                if self._stop.is_set():
                    return
                self._event(f"{self.uri}: USB stream ended; re-opening the dongle")
            self._release()
            self._reopen()

    def _reopen(self) -> None:
        attempts = 0
        for delay in backoff_delays(self.backoff_initial_s, self.backoff_max_s):
            if self.max_reconnects is not None and attempts >= self.max_reconnects:
                raise SourceError(f"{self.uri}: dongle gone, gave up after {attempts} attempts")
            if self._stop.wait(delay):
                return
            attempts += 1
            try:
                self._sdr = self._open_device()
            except SourceError as e:
                self._event(f"{self.uri}: re-open attempt {attempts} failed: {e}")
                continue
            behind = max(0, self._samples_behind())
            self._skip(behind, f"dongle re-opened after {behind / self.sample_rate:.1f} s")
            self._count_reconnect()
            self._anchor = None
            return

    def _on_usb(self, values, _context) -> None:
        """librtlsdr callback (reader thread): copy the buffer, account for overruns, queue."""
        data = np.ctypeslib.as_array(values).copy()
        self.on_samples(data, now=None)

    def on_samples(self, data: np.ndarray, now: float | None = None) -> None:
        """Account for and queue one USB buffer of cu8 bytes received at ``now`` (time.time())."""
        now = time.time() if now is None else now
        n = data.size // 2
        if self._anchor is None:
            self._set_anchor(now - n / self.sample_rate, self._next_index)
            self._drift = 0.0
        else:
            wall, i0 = self._anchor
            behind = i0 + (now - wall) * self.sample_rate - (self._next_index + n)
            excess = behind - self._drift
            if excess > self.overrun_slack:
                self._skip(int(round(excess)), "USB overrun: samples lost")
            else:
                # the dongle's crystal is tens of ppm off: follow that slow drift, not jumps
                self._drift += 0.02 * excess
        self._push(data)
