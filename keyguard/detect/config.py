"""Every threshold the detectors use, in one documented object.

``DetectConfig`` groups one frozen section per detector. Defaults come from the physics of the
attacks (``shared/docs/domain-notes.md``) and from calibration on the simulator's scenarios; the
numbers that were calibrated say so. Override any of them with
``DetectConfig.from_dict({"replay": {"press_gap_margin": 4.0}})`` (e.g. from a TOML file).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any


@dataclass(frozen=True)
class PressConfig:
    """How frames are grouped into presses (a held button repeats its frame; that is one press)."""

    #: frames of one code belong to one press while the gap between them (end of one frame to
    #: start of the next, s) is at most the profile's inter-frame gap times this margin...
    gap_margin: float = 3.0
    #: ...or this floor (s), whichever is larger: covers a few frames lost to noise or fading.
    gap_floor_s: float = 0.25
    #: inter-frame gap assumed for a protocol without a profile (s); KeeLoq guards are ≈ 15 ms,
    #: the slowest shipped families repeat within ≈ 100 ms.
    default_gap_s: float = 0.1
    #: a longer dropout inside a held press (fading, a burst of noise) is bridged when the frames
    #: resume within this many seconds on the same carrier (within ``rejoin_freq_hz``): a replay
    #: that close to its original, from a radio with the same crystal error to 1 kHz, is not an
    #: attack anyone runs, while a fob fading out for half a second is common.
    rejoin_gap_s: float = 1.0
    rejoin_freq_hz: float = 1500.0
    #: ...or within this much (Hz) when the resumed frame starts on the press's frame grid (a
    #: whole number of its frame periods after its last frame, to ``rejoin_grid_tol_s``). A
    #: fob's timer spaces its frames to microseconds; a clipped fob's carrier estimate is not
    #: that steady (fresh benign soak seed 28055: a held button 6.7 dB over full scale read
    #: 2.2 kHz higher after a 0.65 s dropout, 7 periods of 105.98 ms later to 0.02 ms, and its
    #: resumed frames were reported as a replay). A replayer sending the code a moment later
    #: lands within the tolerance of the grid by chance: about 2 in 100 for a 100 ms period.
    rejoin_grid_freq_hz: float = 10000.0
    rejoin_grid_tol_s: float = 0.001
    #: a frame on the press's carrier (within ``rejoin_freq_hz``) and on its frame grid (to
    #: ``rejoin_grid_tol_s``) resumes it after a dropout up to this long (s): a held button's
    #: frames lost inside a stronger transmitter's message (a weather sensor's, up to about a
    #: second) and the front end's region around it (fresh benign soak seed 110045: 11 frames
    #: lost, the next 1.31 s after the last heard, 12 periods of 117.48 ms to 0.02 ms). Both
    #: tests together: a replayer lands on the grid by chance about 2 in 100 times and within
    #: 1.5 kHz of the fob only with a crystal as close as the fob's own
    rejoin_grid_gap_s: float = 2.0


@dataclass(frozen=True)
class ReplayConfig:
    """Replay, RollJam and RollBack: old codes sent again."""

    #: old presses of one identity less than this far apart (s) are one run: the first is
    #: reported at once (replay / RollJam), a second distinct old code in the run escalates it
    #: to one RollBack alert (evidence ``escalates``).
    rollback_gap_s: float = 5.0
    #: counters more than this far behind the newest one seen are treated as a wrap or a new
    #: fob pairing, not as an old code (KeeLoq resynchronises within 32K).
    counter_window: int = 32768
    #: a press judged old by its counter alone (code never heard) needs this many frames, or an
    #: integrity check "ok", so that one bit error cannot fake an old counter.
    counter_min_frames: int = 2
    #: a code learned for an unprofiled transmitter (``protocol`` "unknown") repeated less than
    #: this many seconds after its press is not judged a replay: that transmitter's repeat
    #: behaviour is unknown.
    learned_min_gap_s: float = 3.0
    #: ... and not when that code lies within this fraction of the changing bits (Hamming
    #: distance) of another code of the identity: a sensor's reading drifts by a few low bits
    #: and comes back when the weather holds (fresh benign soak seed 53090: a garden sensor's
    #: reading, 5 of 19 bits from its previous one, repeated 35 s later), while a rolling
    #: code's hops differ in about half (19 bits: 3 % of hop pairs within 5; 32 bits: 1 %
    #: within 9), so a replayed learned code near one of its identity's few other codes is
    #: missed that often.
    learned_hop_min_fraction: float = 0.3
    #: ... nor when it is the newest code heard on its carrier (within this, Hz) from its
    #: identity: a learned identity is shared by every transmitter of its kind, told apart by
    #: their crystals (fresh benign soak seed 206001: two weather sensors 62 kHz apart shared
    #: one, and one's reading came back 40 s later with the other's between; one sensor's
    #: carrier moved 230 Hz between messages)
    learned_same_radio_hz: float = 2000.0
    #: ... or within this (Hz): two sensors of one kind 0.8 kHz apart, one's reading held for
    #: 54 s with the other's messages between (fresh benign soak seed 290037). A fob's carrier
    #: moves at most 0.91 ppm (395 Hz) between presses within a capture, so a raw replay of a
    #: code the fob has moved on from still finds the fob's newer code this close
    learned_own_radio_hz: float = 450.0
    #: a jamming span counts as covering an original press when it overlaps the press widened by
    #: this margin on each side (s): jammers start before the press and the dsp splits long jams.
    rolljam_overlap_margin_s: float = 0.2
    #: a press from a foreign radio (fingerprint mismatch) that starts within this many seconds
    #: after jamming stopped is a RollJam replay even when the jammed original was not decoded
    #: (RollJam replays code 1 0.5–1.5 s after the second jammed press).
    rolljam_after_jam_s: float = 4.0
    #: once a RollJam replay was seen from a foreign radio, a later fresh code of that identity
    #: from the same radio (carrier offset within the CFO floor) within this many seconds is the
    #: second, kept code being used.
    rolljam_followup_s: float = 86400.0
    #: jamming this far (Hz) from the original's carrier still counts (RollJam jams ≈ 70 kHz off;
    #: a wideband jammer's reported centre may sit anywhere in its band).
    rolljam_max_offset_hz: float = 1.0e6
    #: RollJam with neither side decoded: an undecoded frame-length burst (at least
    #: ``rolljam_burst_min_s``, at most ``rolljam_burst_max_s``) on the channel of keyed bursts
    #: heard under a jammer, starting within ``rolljam_after_jam_s`` after the jamming, from
    #: another oscillator than those bursts (carrier offset ≥ the CFO floor away) is the
    #: replay. Frame lengths: a KeeLoq frame is ≈ 0.1 s, a held press of several frames ≈ 1 s.
    rolljam_burst_min_s: float = 0.02
    rolljam_burst_max_s: float = 1.5
    #: a later undecoded burst is the kept second code, sent from the radio of a RollJam
    #: replay, when its carrier offset is within the CFO floor of the replay's and its
    #: duration within this fraction of the replay's (the replayer sends the same frames the
    #: same way; the RollJam scenarios replay 0.31 s both times).
    rolljam_followup_duration_tol: float = 0.15
    #: ... or, whatever its carrier offset (a raw-IQ replay carries the fob's own), one the
    #: burst classifier calls a replay (raw-IQ plus regenerated) with at least this probability
    #: (training seeds 100–104, out-of-fold: undecoded bursts of no replay scored at most 0.32).
    rolljam_replay_probability: float = 0.8


@dataclass(frozen=True)
class JammingConfig:
    """Channel-holding energy that no decoder explains."""

    #: bursts on one channel whose gaps are at most this (s) form one jamming episode.
    merge_gap_s: float = 0.15
    #: an episode must hold the channel this long (s): long enough to cover a whole press (a
    #: KeeLoq press of 3 frames lasts ≈ 0.3 s; RollJam jams for seconds), longer than a press
    #: the front end failed to demodulate (a strong, clipping fob looks like 0.3 s of carrier) ...
    min_duration_s: float = 0.5
    #: ... with bursts covering at least this fraction of its span (pulsed jammers included).
    min_duty: float = 0.4
    #: bursts within this distance (Hz) of an episode's carrier are on the same channel.
    channel_tolerance_hz: float = 30e3
    #: an unknown (profile-less) packet explains its burst only if its bits look like data:
    #: at least this many bits and both bit values at least this often.
    unknown_min_bits: int = 12
    unknown_min_bit_fraction: float = 0.1
    #: decoded packets explain a burst if they cover at least this fraction of its duration.
    explained_fraction: float = 0.25
    #: a long burst is demodulated only in part (``BurstInfo.demod_limit_s``); when its decoded
    #: frames run to within this (s) of where demodulation stopped, the data goes on past it,
    #: and the frames' share is judged on the part demodulated (a frame period and a guard)
    run_to_cut_s: float = 0.25
    #: a burst nothing decoded still counts as data (a sensor, a doorbell, a fob the front end
    #: missed) when its RF features show a line code: a base unit Te in this range (µs) ...
    data_te_us: tuple = (100.0, 2500.0)
    #: ... run widths within this fraction of Te of their multiples (jammers, noise and
    #: square-wave pulsing give Te < 40 µs or > 5 ms, or ragged runs) ...
    data_max_jitter: float = 0.04
    #: ... and an OOK carrier-on fraction in this range (continuous energy is ≈ 1). A burst
    #: with more than ``clipped_fraction`` of its samples at full scale is judged without the
    #: run-width test (clipping blurs edges).
    data_on_fraction: tuple = (0.1, 0.8)
    clipped_fraction: float = 0.001
    #: a burst known only as pulses (Flipper .sub, rtl_433 .ook: no IQ) counts towards jamming
    #: only when its carrier is on for at least this fraction for at least this long (s): the
    #: slicer of such a recorder turns plain noise into random pulses, and without IQ a fob's
    #: long regular wake-up pulses look like a pulsed jammer.
    pulse_only_on: float = 0.9
    pulse_only_min_s: float = 1.5
    #: an unexplained burst inside the span of an explained one at least this much (dB)
    #: stronger is its image or splatter, not a transmission of its own.
    artifact_margin_db: float = 15.0
    #: an undecoded burst on the carrier (within ``repeat_freq_hz``) of a transmission that
    #: decoded in the last ``repeat_window_s`` seconds, and as long as it (within
    #: ``repeat_duration_s``, or ``repeat_duration_fraction`` of it), is that transmitter again:
    #: a doorbell's second ring that merged with a sensor and did not decode (benign soak seed
    #: 19004: 0.758006 s against its first ring's 0.758003 s, 0.5 kHz apart). A jammer does
    #: not copy a device's ring to the millisecond.
    repeat_freq_hz: float = 3e3
    repeat_duration_s: float = 0.01
    repeat_duration_fraction: float = 0.02
    repeat_window_s: float = 600.0
    #: a short episode that starts within ``splatter_onset_s`` (s) of a clipped, explained
    #: transmission at least ``splatter_margin_db`` stronger is its splatter (a hard-limited
    #: carrier's strongest product, at −3F, is 9.5 dB under it)
    splatter_onset_s: float = 0.005
    splatter_margin_db: float = 6.0
    #: with a burst classifier loaded, an undecoded burst is jamming only if P(jammer) reaches
    #: this.
    jammer_probability: float = 0.5
    #: ... except for an undecoded burst held at least this long (s): nothing benign holds a fob
    #: channel that long without a frame (the longest undecoded burst of 111 benign simulated
    #: captures is 1.23 s; held buttons decode), and the classifier, trained
    #: on transmissions and on jammers cut into 1 s segments, is then outside what it learnt.
    #: Every jamming miss of the fresh held-out sets was such a 3 s burst that it called "other"
    #: or a replay at P(jammer) 0.02–0.16: pulsed jammers clipped 10–27 dB over the fob and a
    #: swept one 3.8 dB over it (1204, 1222, 1239, 1203). Such a burst is a jammer when the
    #: classifier says so or the rules (``looks_like_data``) find no line code in it (a pulsed
    #: jammer's square wave can look like data to the rules alone: held-out seed 901)
    classifier_max_undecoded_s: float = 2.5
    #: ... but not for a burst the front end found holding the channel (continuous) over a
    #: band this wide (Hz) that nothing decoded: no fob or sensor occupies it, a noise jammer
    #: does (a weak one, 2-6 dB over the fob, scored P(jammer) 0.02-0.2: development jamming
    #: seeds 321 and 323)
    wide_hold_hz: float = 150e3
    #: ... held on (the front end's ``continuous`` flag, or on for this fraction of at least
    #: ``min_duration_s``: see ``jamming.held_on``)
    wide_hold_on: float = 0.8
    #: ... and such an episode escapes the short-episode classifier bar only this strong (dB)
    #: against the median frame of the known fobs heard (``JammingDetector._over_fobs``)
    wide_hold_min_j_s_db: float = 0.0
    #: a continuous segment that begins within this long (s) of where a jamming episode's
    #: continuous segment on its carrier ended is the same carrier (``JammingDetector._carries_on``)
    segment_join_s: float = 0.005
    #: ... and an episode shorter than ``short_episode_s`` (s) only if one of its bursts reaches
    #: ``short_episode_probability``. Two transmitters overlapping in one channel beat: the
    #: envelope of a doorbell with a passing fob's carrier 17 kHz away (or a weak sensor with a
    #: clipping doorbell's leak 80 kHz away) is chopped at the beat, reads a Te of 10–20 µs and
    #: decodes to nothing, and 0.65–1.03 s of it looked like a pulsed jammer to the classifier
    #: (P 0.51–0.87; benign soaks 4000–4119 and 3000–3059, 4 false alarms): a doorbell's or a
    #: sensor's repeats last up to about a second. Jammers hold the channel for seconds; their
    #: bursts score ≥ 0.8, and their episodes are longer when a decoded segment does not split
    #: them.
    short_episode_s: float = 1.5
    short_episode_probability: float = 0.9
    #: a short undecoded burst whose channel filter passed a decoded known device's carrier
    #: for at least this fraction of its time is a collision, whatever P(jammer) says
    #: (``JammingDetector._beats_with_known``)
    collision_overlap: float = 0.5
    #: a short episode is masked by clipping when clipped, explained transmissions at least
    #: ``masked_margin_db`` stronger (clipping reads a source 9 dB stronger 2.6 dB stronger)
    #: and its own known frames cover ``masked_cover`` of it (``JammingDetector._masked``)
    masked_margin_db: float = 2.0
    masked_cover: float = 0.7
    #: fob frames this far back (s) in the same capture give the fob channel and level for the
    #: offset and J/S evidence.
    fob_reference_s: float = 60.0
    #: an episode this far (dB) or more under the median level of those fob frames is no
    #: jamming: a carrier 20 dB under a fob cannot stop a receiver beside this one from hearing
    #: it (the simulator's jammers run at J/S 0–30 dB; fresh benign soak seed 54008: a weak
    #: sensor's chopped transmission at −33 dB read as a pulsed jammer)
    min_j_s_db: float = -20.0
    #: an episode under which a fob frame was decoded this much (dB) stronger than the episode
    #: denies nothing: it is the noise of an amplify-and-forward relay switched on around the
    #: frame it forwards (relay evidence, not jamming).
    relay_noise_margin_db: float = 10.0


@dataclass(frozen=True)
class BruteforceConfig:
    """Code scanning of fixed-code remotes."""

    #: distinct identities (or codes when a protocol has no identity) of one fixed-code protocol
    #: within ``window_s`` that raise an alert. A household has a handful of remotes; scanners
    #: send tens per second.
    min_distinct: int = 8
    window_s: float = 10.0


@dataclass(frozen=True)
class FingerprintConfig:
    """Clone detection by RF fingerprint, and relay detection."""

    #: presses of an identity needed (enrolled or earlier) before its fingerprint is trusted;
    #: with few, the feature floors (measurement noise and drift) set the tolerance.
    min_reference: int = 1
    #: a press does not match its identity when one fingerprint feature is this many spreads
    #: from the reference median (robust z-score, |x − median| / spread) ...
    clone_max_z: float = 4.0
    #: ... or when the squared z-scores add up to this (several features a little off).
    clone_chi2: float = 16.0
    #: when the carrier and the clock agree (every compared feature outside
    #: ``SHAPE_FEATURES`` — CFO, Te, FSK deviation — within ``clone_core_agree_z`` spreads of
    #: the reference), the envelope's shape alone makes a mismatch only at this many spreads
    #: (neither ``clone_chi2`` nor the identity model then decides). The channel moves edges
    #: and the turn-on chirp: the owner's answer in a deep fade (40 dB under the scene's path
    #: loss: the channel's residue across the frame is a slope in frequency, which weighs the
    #: chirp up) read chirp 3.5 and fall time 2.0 spreads off, chi² 16.6, with CFO 0.5 and Te
    #: 0.06 (fresh benign soak seed 44051: a "clone"). Every fingerprint detection of the
    #: development seeds 300–335 (83) has CFO or Te at 3.5 spreads or more.
    clone_core_agree_z: float = 2.0
    clone_shape_only_z: float = 6.0
    #: two or more mismatching presses of one identity with fresh codes this close together (s)
    #: are a RollBack of codes never heard here (a person does not press twice within it).
    rollback_gap_s: float = 1.0
    #: the CFO must differ by at least this much (ppm) to count towards a mismatch: fob crystals
    #: drift a few ppm with temperature and battery, RTL-SDR tuners drift too.
    cfo_floor_ppm: float = 2.5
    #: ... but only this much (ppm) when every reference was heard by the same capture within
    #: ``cfo_short_window_s`` of the press: over minutes neither the fob's crystal nor the
    #: tuner moves by ppm, while a replayer's synthesizer sits 1.6–16 ppm off the remote
    #: (development fixed-code replays). Clipped presses are measurable for this since the
    #: carrier is measured again around its first estimate (a clipping product no longer pulls it).
    cfo_short_floor_ppm: float = 1.0
    cfo_short_window_s: float = 120.0
    #: ... and for a fixed-code press within that window ``cfo_noise_floor_ppm`` plus
    #: ``cfo_drift_ppm_per_min`` per minute since the oldest reference
    #: (``FingerprintMemory.cfo_floor``; a rolling code a few ppm off may be a relay's
    #: frequency translation, left to the relay detector): the scatter of the
    #: measurement itself (presses of one key within a benign capture: median 0.11 ppm apart,
    #: 99th percentile 0.75, largest 0.91 — an answer 30 dB over full scale — in 230
    #: comparisons, 45 captures behind earlier soak alarms), and a crystal's drift with a
    #: temperature that changes by degrees over minutes. A CC1101 replaying a gate remote
    #: 12 s after its press sat 4.1–4.3 ppm off it and read 2.8 spreads with 1 ppm
    #: (development fixed-code replay seeds 307 and 311: missed).
    cfo_noise_floor_ppm: float = 0.5
    cfo_drift_ppm_per_min: float = 0.5
    #: envelope-shape features (rise/fall time, droop, turn-on chirp) of a press are compared
    #: only with references measured through a channel filter within this fraction of its own
    #: (``channel_bw_hz``): the front end sizes the filter, and with it the channel's sample
    #: rate, from each burst's bandwidth, and one fob's edges read 14 µs through a 55 kHz filter
    #: at 250 ksps and 24 µs through a 43 kHz one at 125 ksps (benign soak seed 3053).
    shape_channel_tolerance: float = 0.1
    #: ... and only when both were measured at this SNR (dB) or more: the feature floors hold
    #: from 10 to 35 dB, and below that the envelope is cut into noise pulses (a doorbell's ring
    #: in a 30 dB fade decoded at −5 dB SNR, the matched filters' work, while its envelope gave
    #: 3,349 "pulses" of 12 µs and a chirp 5.7 spreads off its first ring: fresh soak seed 6016)
    shape_min_snr_db: float = 10.0
    #: how many reference fingerprints to keep per identity (oldest dropped; enrolled ones kept).
    max_reference: int = 64
    #: from this many reference presses on, a one-class model of the identity (HODOR-style,
    #: ``keyguard.models.IdentityFingerprintModel``) also judges each press: a press it puts
    #: outside, with squared z-scores adding up to half ``clone_chi2``, is a mismatch too.
    model_min_reference: int = 8
    #: relay score (0..1, from the burst classifier or the RF rules) that raises a relay alert.
    relay_score: float = 0.7
    #: the burst classifier's P(relayed) (mean over a decoded press's frames) that makes a
    #: press relayed on its own. Dev seeds (benign soak 3000–3089: 432 decoded owner presses;
    #: relay_af/relay_df 300–329: 46 relayed presses), shipped model: owner presses ≥ 0.7: 2,
    #: ≥ 0.9: 0; relayed presses ≥ 0.7: 38, ≥ 0.9: 34. (The session-3 model: 6 owner presses
    #: ≥ 0.7, all close fobs clipping the receiver at 250 ksps, 4 ≥ 0.9; relayed 27 and 19.)
    relay_press_probability: float = 0.9
    #: RSSI this far (dB) below the identity's weakest earlier press is "inconsistent level"
    #: (the relay rule ramps from here to 10 dB more)...
    relay_level_drop_db: float = 10.0
    #: ... judged only once the identity has this many reference presses.
    relay_level_min_reference: int = 3
    #: the largest carrier shift (ppm) still read as a relay's frequency translation (a few
    #: kHz of conversion error at 433.92 MHz plus the fob's own drift).
    relay_max_shift_ppm: float = 8.0
    #: an undecoded frame-length burst (``relay_burst_min_s``..``relay_burst_max_s``) outside
    #: jamming that the burst classifier calls relayed with at least this probability is a
    #: relayed answer nobody could decode (a DF relay's regenerated frames, an AF relay's
    #: clipped copy). Chosen on training seeds 100–104 with out-of-fold classifier
    #: probabilities: the 42 undecoded frame-length bursts of no relay scored at most 0.09, 3 of
    #: 5 relayed ones ≥ 0.9; the margin is kept for devices the simulator does not have.
    relay_burst_probability: float = 0.9
    #: an undecoded burst clipped on at least ``relay_clipped_burst_fraction`` of its samples
    #: (a transmitter beside the receiver) counts as relayed only from this P(relayed): its
    #: features describe the clipping as much as the sender. The owner's answer beside the car,
    #: clipped on 59 %, scored 0.928 (fresh benign soak seed 48075); development relays'
    #: clipped undecoded copies 0.963–0.994 (AF seed 323, DF seeds 313, 325). Placed between
    #: the two after that alarm, with little margin.
    relay_clipped_burst_fraction: float = 0.05
    relay_clipped_burst_probability: float = 0.95
    #: ... and, when its envelope was not cut into pulses (``relay.unsegmented_burst``: a
    #: receiver swamped 25 dB over full scale, the gaps filled by the carrier leak), only under
    #: an amplifier's noise: its features then describe the clipping, and the classifier
    #: cannot tell an AF relay's swamped copy (0.997–0.9998, development and held-out seeds)
    #: from the owner's own answer beside the car (0.97, 0.990, 0.992 and 0.996: benign soak
    #: seed 5099, fresh seeds 23007, 39037 and 46077). An amplify-and-forward relay's noise is
    #: switched on before the frame it forwards: an undecoded emission held at least
    #: ``relay_noise_min_s``, at least ``relay_noise_min_bw_hz`` wide and on at least
    #: ``relay_noise_min_on`` of its time (``relay.amplifier_like``), on the same receiver
    #: within ``relay_noise_max_offset_hz`` of the burst, begun at least ``relay_noise_lead_s``
    #: before the burst and seen until at most ``relay_noise_gap_s`` before it (the front end
    #: cuts the noise into 1 s segments and may fold the last into the burst), and
    #: ``jamming.relay_noise_margin_db`` weaker (development AF relays: segments 250–520 kHz
    #: wide, on 78–100 %, 22–29 dB under the swamped copy, the last ending 0–1 s before it).
    #: The owner's answer has none.
    relay_noise_min_s: float = 0.5
    relay_noise_min_bw_hz: float = 100e3
    relay_noise_min_on: float = 0.7
    relay_noise_max_offset_hz: float = 250e3
    relay_noise_lead_s: float = 0.1
    relay_noise_gap_s: float = 1.5
    #: ... and this for a clipped press with its key's fingerprint, within
    #: ``relay_level_drop_db`` of the levels this receiver heard the key at (at least
    #: ``relay_level_min_reference`` presses), that no relay rule supports; 1 or more: the
    #: classifier alone never decides such a press. At 25 dB over full scale the receiver's
    #: output says little of who sent it: development AF relays scored 0.13–0.999, the owner's
    #: answer beside the car 0.976 and 0.991 (benign soak seeds 4028, 10078)
    relay_clipped_probability: float = 1.0
    relay_burst_min_s: float = 0.02
    relay_burst_max_s: float = 1.5
    #: undecoded relayed bursts this close together (s) are one relay episode (one alert); so
    #: are relayed presses of one key (a double press forwarded in one go).
    relay_episode_gap_s: float = 2.0
    #: an undecoded relayed burst followed within this many seconds (after its episode's last
    #: burst; at least the protocol's inter-frame gap) by a decoded frame on its carrier that
    #: does not look relayed is the owner's own press that failed to decode, pressed again: in
    #: a relay attack the fob is far from the car and nobody presses it there (fresh benign
    #: soak seed 21021: the owner's press beat with a sensor 4 kHz away in its channel and did
    #: not decode, P(relayed) 0.998; his next press 0.31 s later decoded, genuine). Undecoded
    #: relay alerts wait this long. Development relays 310–325 (48 runs) and held-out seeds
    #: 900–905: every alert the same as with the inter-frame gap alone
    relay_owner_follow_s: float = 1.0
    #: a press of a key's own fingerprint this far (dB) below the weakest press of it heard by
    #: the same receiver raises a relay alert on that alone (LF-only relay: the key answered
    #: from afar), from ``relay_level_alone_min_reference`` such presses on. Calibrated on
    #: training seeds 100–105: benign presses fell at most 6.7 dB below their key's weakest
    #: earlier press (90 presses), LF-relayed answers −10 to 23 dB. A real owner pressing from
    #: the far end of a car park can exceed it: raise it where that is common.
    relay_level_alone_db: float = 10.0
    relay_level_alone_min_reference: int = 1
    #: a press is not judged by its fingerprint when another transmitter's burst with a carrier
    #: this close (Hz) lies inside it or less than its inter-frame gap before it (a collision:
    #: frames lost, the others carrying the neighbour's edges). Adjacent channels of the
    #: front end's channel filters (43–86 kHz wide) are within it.
    collision_max_offset_hz: float = 100e3
    #: ... and when one of its bursts carries a second transmitter keyed over it that nothing
    #: decoded: the envelope beats inside the pulses the two share (``beat_depth``, the 90th
    #: percentile of the pulses' ripple, at least this) and stays flat in the others
    #: (``beat_floor``, the 25th percentile, at most ``1 / collision_beat_contrast`` of it), in
    #: a burst clipped on at most ``collision_beat_max_clip`` of its samples (a clipping
    #: receiver rewrites the envelope: a lone press 35 dB over full scale ripples 0.6 in some
    #: pulses). Fresh benign soaks (sessions 12–13): two key fobs keyed 11 and 69 ms apart,
    #: 6.5 and 3.6 kHz apart at one level, and passers-by 10 dB under a doorbell's ring, 5 and
    #: 7.5 kHz away: depth 0.22–0.37, floor 0.006–0.018; fresh seed 173064 (session 17): a
    #: passer-by 1.1 kHz from the owner and 3.5 dB over him, both just over full scale (clipped
    #: on 0.19–0.20, which the earlier bar of 0.15 excluded): depth 0.24–0.32, floor 0.010–0.012,
    #: three undecoded bursts, P(relayed) 0.99. Development and held-out reports are unchanged
    #: by the bar of 0.25. Development seeds 300–335 (2,148
    #: bursts): no burst of a lone transmitter or of an attack reaches it; raw-IQ replays
    #: whose recording noise ripples every pulse reach depth 0.18–0.22 with floor 0.05–0.08.
    #: The undecoded-burst relay rule leaves such bursts alone too; a decoded press is still
    #: judged for relaying (a DF relay's copy beside the car beats with the fob's own answer).
    collision_beat_depth: float = 0.15
    collision_beat_contrast: float = 8.0
    collision_beat_max_clip: float = 0.25
    #: a rolling-code press two of whose frames came in one burst, although its protocol's
    #: inter-frame gap is this long (s) or longer (the front end parts packages at 10 ms), had
    #: something else on through its gaps: not judged by fingerprint nor learned (its carrier
    #: and edges are partly the other transmitter's); a burst its own carrier leak filled
    #: (``fingerprint.leak_filled``) is the press's own
    gap_filled_min_gap_s: float = 0.012
    #: a fixed-code press whose gap noise (``noise_excess_db``: power between its pulses over
    #: the noise outside the burst) is at least this much (dB) above both 0 and the median of
    #: its identity's reference presses was sent by a raw-IQ replayer: it transmits its
    #: recording, noise floor included, so the carrier never switches off between pulses —
    #: even when it carries the remote's own carrier offset and timing. Dev seeds 300–303:
    #: genuine presses −14 to +6 dB, raw-IQ replays 29–35 dB.
    replay_gap_noise_db: float = 15.0
    #: ... as long as that floor is noise: a raw replay's gaps are white (their strongest line
    #: 3.6–4.2 dB over the median spectrum, development raw replays at 30–35 dB of gap noise);
    #: a neighbour keyed during the press fills them with its carrier, a line 30 dB up
    #: (development soak seed 4018: a garden sensor 8.6 kHz from a doorbell's code)
    replay_gap_tone_max_db: float = 15.0
    #: a fixed-code press whose carrier phase carries over from pulse to pulse was sent by a
    #: synthesizer that runs between pulses (a CC1101 or Flipper regenerating the recorded
    #: bits), where the remote's keyed oscillator starts each pulse at a random phase. Judged
    #: by the Rayleigh test over the press's frames: the sum of their ``pulse_phase_z`` is
    #: Gamma(K)-distributed for K frames of random phases; below this chance it is a replay.
    #: Development seeds 300–335: 36 genuine remote presses at most 2.1 per frame on average
    #: (p ≥ 0.03), regenerated replays 3.9–17. A long burst's ``pulse_phase_z`` is a median
    #: over blocks of 24 steps, which the Gamma tail over-states (conservative).
    replay_phase_p_max: float = 1e-3
    #: the same test makes a ``clone`` of a rolling-code press with its key's fingerprint: a
    #: synthesizer regenerating valid codes (a CC1101 or Flipper that knows the key) matched the
    #: fob's carrier to 0.4–2.5 ppm in development clone seeds 308 and 328 (K = 3 frames summed
    #: 25–44; the owners' presses 0.06–1.9 per frame, clipped or not). An owner presses far
    #: more often than a doorbell rings, so the chance allowed is a thousand times smaller.
    clone_phase_p_max: float = 1e-6
    #: ... with at least this many of the press's frames measured (this rule and the LO-line
    #: rule below)
    replay_trace_min_frames: int = 3
    #: ... and only for an identity whose reference presses read a median ``pulse_phase_z`` at
    #: most this: a keyed oscillator (a PLL remote is phase-continuous itself)
    replay_phase_ref_max: float = 3.0
    #: ... and only when the press's gaps are this much (dB, ``extinction_db``) below its
    #: pulses: whatever fills them is in the pulses as well and pulls their phase (the
    #: development replays read 17–19 dB through the receiver's filters)
    replay_phase_min_extinction_db: float = 10.0
    #: a fixed-code press whose gaps carry a steady line kHz from its carrier (``gap_line_db``,
    #: median over ≥ ``replay_trace_min_frames`` frames) at least this much (dB) over the
    #: carrier's own residue there, and ``replay_gap_line_margin_db`` over its identity's
    #: reference presses, at one frequency in every frame (within ``replay_gap_line_spread_hz``
    #: of their median, all frames but one), was sent by a raw-IQ replayer: a HackRF tuned near
    #: the remote transmits its LO leakage through the gaps. Development seeds 300–335: remote
    #: presses at most 4.1 dB, raw-IQ replays 8.7–23 dB (10 of 12 with framed pulses); the
    #: real Hyundai remote carries a line of its own 4.2 kHz up at 7–11 dB, which its
    #: references share
    replay_gap_line_db: float = 8.0
    replay_gap_line_margin_db: float = 6.0
    replay_gap_line_spread_hz: float = 1000.0
    #: ... and a sharp line (``gap_line_sharpness``, median over the frames, at least this): a
    #: steady carrier, where a neighbour keyed across the gaps spreads (development soak seed
    #: 4018: a garden sensor 8 kHz from a doorbell, 11.5 dB over its residue, sharpness 0.14;
    #: noise peaks on development remote presses ≤ 0.28; development HackRF replays 0.60–0.84)
    replay_gap_line_sharpness: float = 0.45


@dataclass(frozen=True)
class EngineConfig:
    """Ordering and time bookkeeping."""

    #: observations are released to detectors in start-time order within this horizon (s), so
    #: bursts reported a little out of order by per-channel front ends are put back in order
    #: (a feeder that passes its own release horizon to ``advance_to`` needs no wait).
    reorder_s: float = 0.5
    #: captures without a start time are placed this long (s) after the previous capture, so
    #: "quick succession" windows never span two of them.
    unknown_gap_s: float = 3600.0


@dataclass(frozen=True)
class DetectConfig:
    """All detector thresholds (see each section's fields for units and reasons)."""

    press: PressConfig = field(default_factory=PressConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    jamming: JammingConfig = field(default_factory=JammingConfig)
    bruteforce: BruteforceConfig = field(default_factory=BruteforceConfig)
    fingerprint: FingerprintConfig = field(default_factory=FingerprintConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DetectConfig":
        """Defaults overridden by ``{section: {field: value}}``; unknown names raise ValueError."""
        return _override(cls(), d, "detect")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {f.name: {g.name: getattr(getattr(self, f.name), g.name)
                         for g in fields(getattr(self, f.name))} for f in fields(self)}


def _override(obj: Any, d: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for k, v in d.items():
        if k not in known:
            raise ValueError(f"{where}: unknown setting {k!r} (known: {', '.join(known)})")
        cur = getattr(obj, k)
        if is_dataclass(cur):
            if not isinstance(v, dict):
                raise ValueError(f"{where}.{k}: expected a table of settings")
            changes[k] = _override(cur, v, f"{where}.{k}")
        else:
            if isinstance(cur, tuple):
                if not (isinstance(v, (list, tuple)) and len(v) == len(cur)
                        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
                    raise ValueError(f"{where}.{k}: expected {len(cur)} numbers, got {v!r}")
                changes[k] = tuple(float(x) for x in v)
                continue
            if isinstance(cur, bool) or not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValueError(f"{where}.{k}: expected a number, got {v!r}")
            changes[k] = type(cur)(v)
    return replace(obj, **changes)
