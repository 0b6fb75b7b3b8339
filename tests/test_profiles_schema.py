"""Profile schema: every shipped profile loads; malformed profiles name the file and the key."""

from __future__ import annotations

import textwrap

import pytest

from keyguard.errors import InputError, ProfileError
from keyguard.protocols.profile import (load_profile_dir, load_profile_file, profile_from_dict,
                                        profiles_from_toml)
from keyguard.protocols.registry import Registry, load_registry, shipped_profiles

MINIMAL = textwrap.dedent("""
    name = "myfob"
    description = "a test fob"
    frequencies_hz = [433920000]
    modulation = "OOK"
    line_code = "pwm"
    identity = ["serial"]
    code = ["hop"]

    [timing]
    te_short_us = 400
    te_long_us = 800
    tolerance_us = 140

    [frame]
    bits = 40
    preamble = { pulse_us = 400, gap_us = 400, min_runs = 8, count = 11 }
    header = [{ level = 0, us = 4000, tolerance_us = 1000 }]

    [[fields]]
    name = "hop"
    offset = 0
    width = 16

    [[fields]]
    name = "serial"
    offset = 16
    width = 24
    order = "lsb"
    """)

REQUIRED = {"name", "family", "description", "frequencies_hz", "modulation", "line_code"}


def test_every_shipped_profile_loads_and_is_documented():
    profs = shipped_profiles()
    names = [p.name for p in profs]
    assert len(names) == len(set(names))
    wanted = {"keeloq", "keeloq_hcs361", "keeloq_hcs362", "star_line", "kia_seed",
              "scher_khan", "faac_slh", "nice_flor_s", "came_atomo", "somfy_rts", "secplus_v1",
              "secplus_v2", "honda_kr5v1x", "honda_kr5v2x", "ford_v0", "chrysler",
              "gm_abo1502t", "pt2262", "ev1527", "came_top", "came_twee"}
    assert wanted <= set(names)
    for p in profs:
        assert p.description and p.frequencies_hz and p.modulation in ("OOK", "FSK")
        assert p.source.startswith("keyguard.firmware_profiles/")
        assert p.repeat.frames_per_press >= 1


def test_minimal_profile_parses():
    (p,) = profiles_from_toml(MINIMAL, "myfob.toml")
    assert p.name == "myfob" and p.family == "myfob"
    assert p.frame.bits_min == p.frame.bits_max == 40
    assert p.field_spec("serial").order == "lsb"
    assert p.identity == ("serial",) and p.code == ("hop",) and p.is_rolling
    assert p.line == {"one": "short", "complementary": True, "gap_limit_us": None}


@pytest.mark.parametrize("edit, key", [
    (('line_code = "pwm"', 'line_code = "pwn"'), "line_code"),
    (("te_short_us = 400", "te_short_us = -4"), "timing.te_short_us"),
    (("te_short_us = 400", 'te_short_us = "fast"'), "timing.te_short_us"),
    (("tolerance_us = 140", "tolerance_us = 500"), "timing.tolerance_us"),
    (("bits = 40", "bits = [50, 40]"), "frame.bits"),
    (('identity = ["serial"]', 'identity = ["serail"]'), "identity"),
    (("width = 24", "width = 30"), "fields[1].width"),
    (('modulation = "OOK"', 'modulation = "AM"'), "modulation"),
    (("count = 11", "count = 12"), "frame.preamble"),
    (('order = "lsb"', 'order = "reversed"'), "fields[1].order"),
    (("[frame]", "[frame]\nbits_max = 3"), "frame.bits_max"),
    (('line_code = "pwm"', 'line_code = "pwm"\ncodec = "nosuch"'), "codec"),
])
def test_malformed_profile_names_file_and_key(edit, key):
    text = MINIMAL.replace(*edit)
    with pytest.raises(ProfileError) as e:
        profiles_from_toml(text, "bad.toml")
    msg = str(e.value)
    assert msg.startswith("bad.toml: ") and f"'{key}'" in msg
    assert isinstance(e.value, InputError)


def test_missing_required_key():
    with pytest.raises(ProfileError, match="'description': is required"):
        profiles_from_toml(MINIMAL.replace('description = "a test fob"\n', ""), "x.toml")


def test_header_gap_without_preamble_is_rejected():
    text = MINIMAL.replace("preamble = { pulse_us = 400, gap_us = 400, min_runs = 8, count = 11 }\n", "")
    with pytest.raises(ProfileError, match="frame.header"):
        profiles_from_toml(text, "x.toml")


def test_line_option_must_belong_to_the_line_code():
    text = MINIMAL.replace("[frame]", '[line]\nzero = "rising"\n\n[frame]')
    with pytest.raises(ProfileError, match="'line.zero': is not an option"):
        profiles_from_toml(text, "x.toml")


def test_invalid_toml():
    with pytest.raises(ProfileError, match="not valid TOML"):
        profiles_from_toml("name = ", "x.toml")


def test_variants_inherit_and_override():
    text = MINIMAL + textwrap.dedent("""
        [[variants]]
        name = "myfob_a"

        [[variants]]
        name = "myfob_b"
        timing = { te_short_us = 200, te_long_us = 400, tolerance_us = 70 }
        """)
    a, b = profiles_from_toml(text, "fam.toml")
    assert (a.name, b.name) == ("myfob_a", "myfob_b")
    assert a.timing.te_short_us == 400 and b.timing.te_short_us == 200
    assert a.field_spec("serial") == b.field_spec("serial")


def test_variant_error_names_the_variant():
    text = MINIMAL + '\n[[variants]]\nname = "v1"\nline_code = "nope"\n'
    with pytest.raises(ProfileError, match="variant 'v1'.*'line_code'"):
        profiles_from_toml(text, "fam.toml")


def test_user_directory_adds_and_overrides(tmp_path):
    (tmp_path / "myfob.toml").write_text(MINIMAL)
    (tmp_path / "keeloq.toml").write_text(MINIMAL.replace('name = "myfob"', 'name = "keeloq"'))
    reg = load_registry([tmp_path])
    assert "myfob" in reg
    assert reg.get("keeloq").source.endswith("keeloq.toml")
    assert reg.get("keeloq").frame.bits_min == 40  # the user's version replaced the shipped one
    assert len(load_profile_dir(tmp_path)) == 2


def test_two_user_profiles_with_one_name_are_an_error(tmp_path):
    (tmp_path / "a.toml").write_text(MINIMAL)
    (tmp_path / "b.toml").write_text(MINIMAL)
    with pytest.raises(ProfileError, match="already defined"):
        load_registry([tmp_path])


def test_a_bad_file_in_a_user_directory_is_reported_not_skipped(tmp_path):
    (tmp_path / "good.toml").write_text(MINIMAL)
    (tmp_path / "zbad.toml").write_text(MINIMAL.replace("tolerance_us = 140", "tolerance_us = 0"))
    with pytest.raises(ProfileError) as e:
        load_registry([tmp_path])
    assert "zbad.toml" in str(e.value) and "timing.tolerance_us" in str(e.value)


def test_missing_paths(tmp_path):
    with pytest.raises(ProfileError, match="not a directory"):
        load_profile_dir(tmp_path / "nope")
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile_file(tmp_path / "nope.toml")


def test_registry_lookup():
    reg = Registry(profiles_from_toml(MINIMAL, "m.toml"))
    assert reg.get("myfob").name == "myfob" and len(reg) == 1 and reg.names() == ["myfob"]
    with pytest.raises(InputError, match="no profile named 'other'"):
        reg.get("other")


def test_profile_from_dict_rejects_unknown_top_level_key():
    import tomllib

    data = tomllib.loads(MINIMAL)
    data["colour"] = "red"
    with pytest.raises(ProfileError, match="'colour': is not a profile key"):
        profile_from_dict(data, "d.toml")


def test_passive_entry_names_a_field_and_its_values():
    (p,) = profiles_from_toml(MINIMAL + '\n[passive_entry]\nfield = "serial"\nvalues = [0, 3]\n',
                              "pe.toml")
    assert p.passive_entry_answer({"serial": 3}) is True
    assert p.passive_entry_answer({"serial": 2}) is False
    (q,) = profiles_from_toml(MINIMAL, "plain.toml")
    assert q.passive_entry_answer({"serial": 0}) is None  # cannot tell
    keeloq = load_registry().get("keeloq")
    assert keeloq.passive_entry_answer({"button": 0}) and not keeloq.passive_entry_answer(
        {"button": 2})


@pytest.mark.parametrize("table, key", [
    ('field = "nosuch"\nvalues = [0]', "passive_entry.field"),
    ('field = "serial"\nvalues = []', "passive_entry.values"),
    ('field = "serial"\nvalues = [-1]', "passive_entry.values"),
    ('field = "serial"\nvalues = [0]\nwhen = 1', "passive_entry.when"),
])
def test_malformed_passive_entry_names_the_key(table, key):
    with pytest.raises(ProfileError) as e:
        profiles_from_toml(MINIMAL + f"\n[passive_entry]\n{table}\n", "bad.toml")
    assert f"'{key}'" in str(e.value)
