"""keyguard's scenario simulator: fobs, receivers, jammers, replayers and relays as labelled IQ.

Build a scenario in code (or load one from TOML) and render it::

    from keyguard.sim import Device, Press, RollJam, Scenario

    sc = Scenario(name="demo", duration_s=20.0, receiver={"sample_rate": 1.024e6},
                  devices=[Device("owner", protocol="keeloq", serial=0x0D36C681,
                                  key=0x5CEC6701B79FD949, counter=1200)],
                  attacks=[RollJam("owner", presses=(5.0, 9.0), replay2_t=17.0)])
    rendering = sc.plan(seed=1)           # emissions and ground truth
    for chunk in rendering.chunks():      # complex64 ADC samples, bounded memory
        ...
    rendering.truth                       # TruthEvent list (contract alert kinds + press/benign)

Layers, bottom up: :mod:`.render` (pulse train → clean IQ), :mod:`.fingerprint` (per-radio
imperfections), :mod:`.channel` (path loss, fading, multipath), :mod:`.receiver` (RTL-SDR front
end), :mod:`.jammer` and :mod:`.attacks` (attack devices), :mod:`.clutter` (benign traffic),
:mod:`.scenario` (timeline, truth), :mod:`.output` (files).
"""

from keyguard.sim.attacks import BruteForce, Clone, Jam, Relay, Replay, Replayer, RollBack, RollJam
from keyguard.sim.channel import ChannelModel
from keyguard.sim.clutter import Doorbell, OtherFobs, Tpms, WeatherSensor
from keyguard.sim.fingerprint import Fingerprint, draw_fingerprint
from keyguard.sim.receiver import RtlSdr
from keyguard.sim.render import add_awgn, render_pulse_train
from keyguard.sim.scenario import (Device, FrameRequest, Press, Rendering, Scenario, TruthEvent,
                                   list_scenarios, load_scenario)

__all__ = ["BruteForce", "ChannelModel", "Clone", "Device", "Doorbell", "Fingerprint", "FrameRequest",
           "Jam", "OtherFobs", "Press", "Relay", "Rendering", "Replay", "Replayer", "RollBack", "RollJam",
           "RtlSdr", "Scenario", "Tpms", "TruthEvent", "WeatherSensor", "add_awgn", "draw_fingerprint",
           "list_scenarios", "load_scenario", "render_pulse_train"]
