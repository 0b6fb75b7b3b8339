"""Flipper .sub recordings turned into IQ decode to the same packets as their pulse-train form.

Issue 3: "the same Flipper files turned into IQ (at several SNRs, offsets and sample rates)
decode to the same packets as their pulse-train form". Each file is decoded once from its
pulses, then rendered as I/Q (``keyguard.io.pulse_capture_to_iq``: the recorded pulses keyed
as OOK or FSK at the file's own carrier plus an offset, in white noise) and decoded through the
IQ front end (burst detection, channelisation, demodulation). Every packet of the pulse form
must come back with the same protocol, identity, code and bits, and nothing else may appear.
"""

from __future__ import annotations

import pytest

from keyguard.io import open_capture, pulse_capture_to_iq
from keyguard.protocols.engine import Decoder, decode_capture

pytestmark = pytest.mark.needs_shared

UNIT = "flipper_sub/_reference_nonvehicle/flipper_unit_tests"

#: (file, protocols its pulse form decodes to) — known rolling-code and fixed-code families,
#: 2-FSK (KIA Seed) and fobs without a profile (``unknown`` frames of the Isuzu and Tesla files)
FILES = [
    ("flipper_sub/Kia_Hyundai/kia_seed_raw.sub", {"kia_seed"}),
    ("flipper_sub/Cenmax_StarLine/cenmax_raw.sub", {"star_line"}),
    ("flipper_sub/Scher-Khan/scher_khan_magic_code.sub", {"scher_khan"}),
    (f"{UNIT}/doorhan_raw.sub", {"keeloq"}),
    (f"{UNIT}/somfy_telis_raw.sub", {"somfy_rts"}),
    (f"{UNIT}/security_pls_2_0_raw.sub", {"secplus_v2"}),
    (f"{UNIT}/nice_flor_s_raw.sub", {"nice_flor_s"}),
    (f"{UNIT}/faac_slh_raw.sub", {"faac_slh"}),
    (f"{UNIT}/came_atomo_raw.sub", {"came_atomo"}),
    ("flipper_sub/Isuzu/Isuzu_fts_unlock.sub", {"unknown"}),
    ("flipper_sub/Tesla_chargeport/EU_Tesla_Y.sub", {"unknown"}),
]

#: (sample rate Hz, burst SNR dB over the whole band, carrier offset Hz)
CONDITIONS = [(250e3, 20.0, 0.0), (1.024e6, 12.0, 40e3), (250e3, 8.0, -30e3)]


def _key(p) -> tuple:
    return (p.protocol, p.identity, p.code, p.data, p.bits)


@pytest.mark.parametrize("rel, protocols", FILES, ids=[f[0].rsplit("/", 1)[-1] for f in FILES])
def test_iq_render_decodes_like_the_pulses(shared_captures, rel, protocols):
    cap = open_capture(shared_captures / rel)
    ref = [_key(p) for p in decode_capture(cap, Decoder(strict_modulation=False))]
    assert ref, f"{rel}: the pulse form decodes to nothing"
    assert protocols <= {k[0] for k in ref}
    for rate, snr, offset in CONDITIONS:
        iq = pulse_capture_to_iq(cap, rate, snr_db=snr, freq_offset_hz=offset, seed=3)
        got = [_key(p) for p in decode_capture(iq, Decoder(strict_modulation=False))]
        where = f"{rel} at {rate / 1e3:g} ksps, {snr:g} dB, {offset / 1e3:+g} kHz"
        assert set(got) == set(ref), (
            f"{where}: missing {sorted(set(ref) - set(got))[:3]}, "
            f"extra {sorted(set(got) - set(ref))[:3]}")
        # every repeat of a frame is found again, not just one of them
        assert len(got) >= len(ref), where
