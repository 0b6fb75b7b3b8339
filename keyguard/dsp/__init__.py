"""Signal processing: burst detection, channelisation, demodulation, slicing.

The IQ front end in one call is :func:`iter_pulse_trains` (class form :class:`FrontEnd`);
:class:`BurstDetector` is the streaming burst detector behind it and :func:`demodulate` turns
one :class:`Burst` into pulse trains.
"""

from keyguard.dsp.bursts import Burst, BurstDetector, detect_bursts
from keyguard.dsp.demod import demodulate
from keyguard.dsp.frontend import FrontEnd, iter_pulse_trains

__all__ = ["Burst", "BurstDetector", "FrontEnd", "demodulate", "detect_bursts", "iter_pulse_trains"]
