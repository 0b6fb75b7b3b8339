"""keyguard: find keyless vehicle theft in key-fob radio captures.

The pipeline, each stage usable alone:
source (``keyguard.io``, ``keyguard.sdr``) → channelise and detect bursts (``keyguard.dsp``) →
demodulate to pulse trains → decode with firmware profiles (``keyguard.protocols``) →
features (``keyguard.features``) → detectors and classifiers (``keyguard.detect``,
``keyguard.models``) → alerts and sinks (``keyguard.alerts``).
"""

__version__ = "0.1.0"
