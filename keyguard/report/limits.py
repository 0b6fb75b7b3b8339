"""The stated limits of the method: what one RTL-SDR recording can and cannot show.

A report is evidence; the reader must know what the receiver could not have seen. The general
limits are fixed text; the figures that depend on the inputs (time per sample, band covered,
tuner error in Hz, 8-bit dynamic range) are computed from each capture.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Speed of light (m/s), for the distance one sample period stands for.
C_M_S = 299_792_458.0
#: Typical RTL-SDR tuner frequency error without a TCXO (ppm), and its spread (domain notes).
TUNER_PPM, TUNER_PPM_SPREAD = 30.0, 20.0
#: Usable dynamic range of 8-bit I/Q (dB): ~6 dB a bit less quantisation and spur margins.
DYNAMIC_RANGE_8BIT_DB = 45.0
#: Formats recorded with 8-bit samples (an RTL-SDR's native output).
EIGHT_BIT = ("cu8", "cs8")


@dataclass(frozen=True)
class InputLimits:
    """Figures of one capture that bound what it can show."""

    name: str
    sample_period_ns: float
    light_m_per_sample: float
    band_mhz: tuple[float, float] | None  # (low, high) when the centre is known
    tuner_error_hz: float | None  # TUNER_PPM at the centre frequency
    eight_bit: bool


def input_limits(name: str, sample_rate: float, center_freq: float | None,
                 sample_format: str | None) -> InputLimits:
    """The limits of one capture: rate (Hz), centre (Hz or None), sample format (cu8, ...)."""
    period = 1.0 / sample_rate if sample_rate > 0 else float("nan")
    band = None
    if center_freq is not None:
        band = ((center_freq - sample_rate / 2) / 1e6, (center_freq + sample_rate / 2) / 1e6)
    tuner = None if center_freq is None else center_freq * TUNER_PPM * 1e-6
    return InputLimits(name=name, sample_period_ns=period * 1e9, light_m_per_sample=period * C_M_S,
                       band_mhz=band, tuner_error_hz=tuner,
                       eight_bit=(sample_format or "") in EIGHT_BIT)


def general_limits() -> list[tuple[str, str]]:
    """(heading, sentence) pairs that hold for every single-receiver RTL-SDR analysis."""
    return [
        ("No LF challenge",
         "Passive keyless entry cars wake the key with a 125 kHz (LF) challenge. An RTL-SDR tuned "
         "to the UHF key-fob band cannot receive it, so a relay of the car-to-key LF link is "
         "invisible here; only the key's UHF answer is recorded."),
        ("No time of flight",
         "At 2.4 Msps one sample lasts about 417 ns (light travels about 125 m in that time). "
         "The extra path of a relay (tens of metres, 100-200 ns) is far below one sample, so "
         "relay evidence can only come from levels, copies, distortion and RF fingerprints, "
         "never from the timing of a single burst."),
        ("8-bit dynamic range",
         f"8-bit samples give about {DYNAMIC_RANGE_8BIT_DB:.0f} dB of usable dynamic range: a "
         "strong jammer or a nearby transmitter can clip the receiver and hide weaker bursts, "
         "and very weak bursts fall below the noise floor."),
        ("Tuner error",
         f"An RTL-SDR tuner without a TCXO is typically off by {TUNER_PPM:.0f} ± "
         f"{TUNER_PPM_SPREAD:.0f} ppm. Absolute carrier frequencies carry that error; carrier "
         "differences are only comparable between bursts recorded by the same receiver."),
        ("Band covered",
         "Only the band the sample rate spans around the centre frequency was recorded; "
         "transmissions on other channels (another key-fob band, Bluetooth, UWB, LTE) and "
         "attacks without radio (CAN injection, OBD key programming) leave no trace here."),
        ("One receiver",
         "A single receiver gives no direction or position: it cannot tell where a transmitter "
         "stood, only what reached the antenna and how strongly."),
        ("Decoding needs profiles and keys",
         "Bursts are decoded only for protocols with a firmware profile; rolling codes are "
         "decrypted only with a manufacturer key. Undecoded bursts appear as 'unknown' packets "
         "and cannot support replay findings."),
        ("Times come from metadata",
         "Absolute times come from the capture's metadata (SigMF core:datetime, a --start-time "
         "option or the recording host's clock) and are not verified by keyguard; times within "
         "one capture come from the sample count and are exact to one sample."),
        ("Findings are indications",
         "Alerts are the output of rules and statistical models with stated confidence; they "
         "point at evidence to be examined, they are not proof of a crime on their own."),
    ]
