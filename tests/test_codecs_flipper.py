"""Codecs on real frames: Flipper unit-test captures and decoded keys, rtl_433 and secplus codes.

RAW captures are sliced with keyguard.dsp.slicers; the framing here (where the data starts) is
deliberately minimal and local to these tests: the profile engine does the real framing.
"""

from __future__ import annotations

import numpy as np
import pytest

from keyguard.dsp import slicers
from keyguard.io.flipper import read_sub
from keyguard.protocols.codecs import get_codec
from keyguard.protocols.codecs.bitpack import from_bytes, msb_bits

pytestmark = pytest.mark.needs_shared

FLIP = "flipper_sub"
UNIT = f"{FLIP}/_reference_nonvehicle/flipper_unit_tests"
DECODED = f"{FLIP}/_reference_nonvehicle/decoded_uberguidoz"


def _key_bits(sub) -> np.ndarray:
    """A decoded .sub file's Key as on-air bits (its last ``Bit`` bits)."""
    return from_bytes(sub.key)[-sub.bit:]


def _runs(path):
    sub = read_sub(path)
    return sub.raw.durations_us, sub.raw.levels


# --- test-local framing ------------------------------------------------------------------
def _after_header(d, lv, header_us):
    """Indices of on-runs that follow an off-run of at least ``header_us``."""
    return [i + 1 for i in np.flatnonzero((lv[:-1] == 0) & (d[:-1] >= header_us))]


def _after_preamble(d, lv, unit_us, tol_us, min_runs):
    """Indices of on-runs that follow at least ``min_runs`` runs of ``unit_us`` (±tol)."""
    ok = np.abs(d - unit_us) <= tol_us
    starts, run = [], 0
    for i in range(d.size):
        if ok[i]:
            run += 1
            continue
        if run >= min_runs and lv[i] == 1:
            starts.append(i)
        run = 0
    return starts


def _decode_all(codec: str, d, lv, starts, slice_fn, nbits: int | None = None, **kw) -> list[dict]:
    """Slice from every start and keep the frames the codec accepts."""
    out = []
    for start in starts:
        r = slice_fn(d, lv, start, **kw)
        bits = r.bits if nbits is None else r.bits[:nbits]
        f = get_codec(codec).decode(bits) if nbits is None or bits.size == nbits else None
        if f is not None:
            out.append(f)
    return out


# --- decoded-form keys --------------------------------------------------------------------
def test_doorhan_key_file(shared_captures):
    sub = read_sub(shared_captures / UNIT / "doorhan.sub")
    assert (sub.protocol, sub.bit) == ("KeeLoq", 64)
    bits = _key_bits(sub)
    d = get_codec("keeloq").decode(bits)
    # Flipper's reading of this key: fix 0x28A91ECC (btn 2, serial 0x8A91ECC), hop 0x4E0F0A12
    assert (d["button"], d["serial"], d["encrypted"]) == (0x2, 0x8A91ECC, 0x4E0F0A12)
    assert np.array_equal(get_codec("keeloq").encode(d), bits)


def test_orlen_keeloq_pair(shared_captures):
    on = read_sub(shared_captures / DECODED / "ORLEN_ON.sub")
    off = read_sub(shared_captures / DECODED / "ORLEN_OFF.sub")
    c = get_codec("keeloq")
    d_on, d_off = c.decode(_key_bits(on)), c.decode(_key_bits(off))
    assert d_on["serial"] == d_off["serial"] == 0x2B7121C       # one remote
    assert (d_on["button"], d_off["button"]) == (0x2, 0x4)        # two buttons
    assert d_on["encrypted"] != d_off["encrypted"]
    for sub, d in ((on, d_on), (off, d_off)):
        assert np.array_equal(c.encode(d), _key_bits(sub))


def test_somfy_telis_key_file(shared_captures):
    sub = read_sub(shared_captures / DECODED / "Somfy_Telis_electronic_shades.sub")
    assert sub.bit == 56
    bits = _key_bits(sub)
    d = get_codec("somfy_rts").decode(bits)
    assert d["integrity"] == "ok"
    assert (d["key"], d["control"], d["counter"], d["address"]) == (0x8D, 0x4, 0x165F, 0x262848)
    assert np.array_equal(get_codec("somfy_rts").encode(d), bits)


def _secplus_pair(sub) -> np.ndarray:
    p1 = int(sub.fields["Secplus_packet_1"].replace(" ", ""), 16)
    return np.concatenate([msb_bits(p1, 62), msb_bits(sub.key_int, 62)])


def test_secplus_v2_key_files(shared_captures):
    c = get_codec("secplus_v2")
    sub = read_sub(shared_captures / UNIT / "security_pls_2_0.sub")
    bits = _secplus_pair(sub)
    d = c.decode(bits)
    assert (d["rolling"], d["fixed"]) == (240123905, 447963779714)
    assert np.array_equal(c.encode(d), bits)
    # three files from one LiftMaster 893LM remote: one remote id, three buttons, three codes
    names = ["893LM_7359_1.sub", "893LM_7359_2.sub", "893LM_7539_3.sub"]
    ds = [c.decode(_secplus_pair(read_sub(shared_captures / DECODED / n))) for n in names]
    assert {x["serial"] for x in ds} == {1112310188}
    assert [x["button"] for x in ds] == [0x52, 0x50, 0x51]
    assert len({x["rolling"] for x in ds}) == 3
    assert all(240_000_000 < x["rolling"] < 240_200_000 for x in ds)


# --- RAW captures ---------------------------------------------------------------------------
def test_doorhan_raw_keeloq(shared_captures):
    d, lv = _runs(shared_captures / UNIT / "doorhan_raw.sub")
    frames = _decode_all("keeloq", d, lv, _after_header(d, lv, 3000), slicers.slice_pwm,
                         short_us=400, long_us=800, tolerance_us=200, one="short")
    assert len(frames) >= 9
    assert {(f["button"] << 28) | f["serial"] for f in frames} == {0x2D36C681}
    assert len({f["encrypted"] for f in frames}) == 3     # three presses, three hops


def test_cenmax_raw_star_line(shared_captures):
    d, lv = _runs(shared_captures / FLIP / "Cenmax_StarLine" / "cenmax_raw.sub")
    frames = _decode_all("star_line", d, lv, _after_preamble(d, lv, 1000, 200, 8),
                         slicers.slice_pulse_length, 64, short_us=250, long_us=500, tolerance_us=120)
    assert len(frames) >= 3
    assert {f["fix"] for f in frames} == {0x26010722}
    assert len({f["encrypted"] for f in frames}) == 3


def test_kia_seed_raw(shared_captures):
    d, lv = _runs(shared_captures / FLIP / "Kia_Hyundai" / "kia_seed_raw.sub")
    frames = _decode_all("kia_seed", d, lv, _after_preamble(d, lv, 250, 100, 30),
                         slicers.slice_pulse_length, 60, short_us=250, long_us=500, tolerance_us=100)
    assert {f["serial"] for f in frames} == {0x43B04EC}
    assert {f["button"] for f in frames} == {1}
    assert sorted({f["counter"] for f in frames}) == [0x054A, 0x054B, 0x054C, 0x054D]
    assert all(f["integrity"] == "ok" for f in frames)


def test_faac_slh_raw(shared_captures):
    d, lv = _runs(shared_captures / UNIT / "faac_slh_raw.sub")
    frames = _decode_all("faac_slh", d, lv, _after_preamble(d, lv, 1190, 300, 2), slicers.slice_pwm,
                         64, short_us=255, long_us=595, tolerance_us=150, one="long")
    assert len(frames) >= 10
    assert {f["serial"] for f in frames} == {0xA03A052}      # one remote
    assert {f["button"] for f in frames} == {0x8, 0x9}
    assert len({f["encrypted"] for f in frames}) == 3         # three presses


def test_scher_khan_raw(shared_captures):
    d, lv = _runs(shared_captures / FLIP / "Scher-Khan" / "scher_khan_magic_code.sub")
    # the start pair (750/750) comes first; the data follow it
    starts = [s + 2 for s in _after_preamble(d, lv, 1500, 250, 4)]
    frames = _decode_all("scher_khan", d, lv, starts, slicers.slice_pulse_length,
                         short_us=750, long_us=1100, tolerance_us=150)
    assert len(frames) >= 8
    assert {f["variant"] for f in frames} == {"magic_code_dynamic"}
    assert {(f["serial"], f["button"]) for f in frames} == {(0xE8C169, 1)}
    assert sorted({f["counter"] for f in frames}) == [0x801B, 0x801C]   # two presses


def _manchester_packets(d, lv, half_us, pattern: str, length: int) -> list[str]:
    """Bit strings of ``length`` starting at ``pattern``, from Manchester slices at every run."""
    out = []
    i = 0
    while i < d.size:
        r = slicers.slice_manchester(d, lv, i, half_us=half_us, tolerance_us=half_us * 0.4,
                                     zero="falling")
        s = "".join(map(str, r.bits.tolist()))
        k = s.find(pattern)
        if k >= 0 and len(s) - k >= length:
            out.append(s[k:k + length])
            i = max(r.stop, i + 1)
        else:
            i += 1
    return out


def test_security_plus_2_raw(shared_captures):
    d, lv = _runs(shared_captures / UNIT / "security_pls_2_0_raw.sub")
    packets = _manchester_packets(d, lv, 250, "0" * 16 + "1111", 62)
    c = get_codec("secplus_v2")
    decoded = []
    for a, b in zip(packets[:-1], packets[1:]):
        if a[20:22] == "00" and b[20:22] == "01":
            decoded.append(c.decode(np.array([int(x) for x in a + b], dtype=np.uint8)))
    assert len(decoded) >= 30 and all(decoded)
    assert {x["fixed"] for x in decoded} == {447797240228}
    # eight presses: the rolling code counts up by one per press
    assert sorted({x["rolling"] for x in decoded}) == list(range(240124054, 240124062))


def test_somfy_telis_raw(shared_captures):
    d, lv = _runs(shared_captures / UNIT / "somfy_telis_raw.sub")
    c = get_codec("somfy_rts")
    frames = []
    for k in np.flatnonzero((lv[:-1] == 1) & (np.abs(d[:-1] - 4480) < 600)):
        # the software sync ends with a 640 µs low half that can merge with the first data half
        dd = d.copy()
        dd[k + 1] -= 640
        start = k + 1 if dd[k + 1] > 320 else k + 2
        r = slicers.slice_manchester(dd, lv, start, half_us=640, tolerance_us=250, zero="falling")
        f = c.decode(r.bits[:56]) if r.bits.size >= 56 else None
        if f is not None:
            frames.append(f)
    assert len(frames) >= 8
    assert {f["address"] for f in frames} == {0x001312}
    assert {f["key"] for f in frames} == {0xA7}
    assert sorted({f["counter"] for f in frames}) == list(range(520, 528))   # eight presses
    assert {f["button"] for f in frames} <= {1, 2, 3}


def test_rtl_433_somfy_codes(shared_captures):
    """rtl_433's Somfy RTS test codes ({N}hex of half-bit chips) give rtl_433's fields."""
    path = shared_captures / "rtl_433_tests" / "tests" / "Somfy-RTS" / "codes_test.txt"
    rows = [ln.strip() for ln in path.read_text().splitlines() if ln.startswith("{")]
    want = [(8, 1086), (5, 1088), (6, 1089), (12, 1091)]   # codes_test.json: control, counter
    c = get_codec("somfy_rts")
    for row, (button, counter) in zip(rows, want, strict=True):
        n, hexpart = int(row[1:row.index("}")]), row[row.index("}") + 1:]
        chips = from_bytes(bytes.fromhex(hexpart + "0" * (len(hexpart) % 2)), n)
        s = "".join(map(str, chips.tolist()))
        k = s.index("11111110") + 8           # after the software sync
        pairs = chips[k:k + 112].reshape(56, 2)
        assert (pairs[:, 0] != pairs[:, 1]).all()
        f = c.decode(pairs[:, 1].astype(np.uint8))  # rising edge (0 then 1) = 1
        assert (f["serial"], f["button"], f["counter"], f["control"]) == (12916042, button, counter, 0xF)
        assert f["integrity"] == "ok"


# --- published Security+ codes (argilo/secplus test vectors, data only) ---------------------
V1 = [("0010000211122102222101112211012101001110", 2320616984, 876029923),
      ("1111012200000020120212012222211000020221", 3869428102, 876029922),
      ("0202022201120212212102102202200002022121", 2615434912, 2397429307)]


@pytest.mark.parametrize("code,rolling,fixed", V1)
def test_secplus_v1_published_codes(code, rolling, fixed):
    trits = np.array([int(x) for x in code], dtype=np.uint8)
    c = get_codec("secplus_v1")
    d = c.decode(trits)
    assert (d["rolling"], d["fixed"]) == (rolling, fixed)
    enc = c.encode(d)
    assert np.array_equal(np.concatenate([enc[1:21], enc[22:]]), trits)


def test_secplus_v1_fields_match_rtl_433():
    # rtl_433 secplus v1 expected output: fixed 1846948897 -> id0 0, id1 2, switch 1, remote 68405514
    trits = get_codec("secplus_v1").encode({"rolling": 2320615320, "fixed": 1846948897})
    d = get_codec("secplus_v1").decode(trits)
    assert (d["id0"], d["id1"], d["switch_id"], d["remote_id"]) == (0, 2, 1, 68405514)


V2 = [("00010001000010111110001111110110111011100010010110001110011110010011011011011011",
       240124710, 0x1074C58200, None),
      ("01000100001011011000011010100011110101111001001000001001101011010100100001110010"
       "010110011010011110010011110110011110010010010011", 240129675, 0xFA36D91000, 0xFB03D000)]


@pytest.mark.parametrize("code,rolling,fixed,data", V2)
def test_secplus_v2_published_codes(code, rolling, fixed, data):
    bits = np.array([int(x) for x in code], dtype=np.uint8)
    d = get_codec("secplus_v2").decode(bits)
    assert (d["rolling"], d["fixed"], d.get("data")) == (rolling, fixed, data)
