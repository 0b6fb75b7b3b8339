"""The SQLite state file: creation, refusal of foreign files, persistence across runs."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone

import numpy as np
import pytest

from detect_fakes import PROFILES, feed, kinds, press
from keyguard.detect import DetectionEngine
from keyguard.errors import StateError
from keyguard.features.vector import FEATURE_NAMES
from keyguard.state import SCHEMA_VERSION, State

MON = datetime(2024, 5, 6, 8, 0, tzinfo=timezone.utc)
TUE = datetime(2024, 5, 7, 8, 0, tzinfo=timezone.utc)


def scan(state_path, name, sha, start, packets):
    with State(state_path) as st:
        e = DetectionEngine(profiles=PROFILES, state=st)
        e.begin_capture(name, start_time=start, sha256=sha, duration_s=60.0)
        out = feed(e, packets)
        return out + e.finish()


def test_new_state_file_is_created_versioned_and_in_wal_mode(tmp_path):
    p = tmp_path / "s.db"
    with State(p) as st:
        assert st.schema_version == SCHEMA_VERSION
    db = sqlite3.connect(p)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dict(db.execute("SELECT key, value FROM meta"))["app"] == "keyguard-state"


def test_tuesday_replay_of_a_monday_code_is_caught_across_runs(tmp_path):
    p = tmp_path / "s.db"
    assert scan(p, "mon.cu8", "a" * 64, MON, press(3.0, 0x1111) + press(9.0, 0x2222)) == []
    out = scan(p, "tue.cu8", "b" * 64, TUE, press(5.0, 0x1111, capture="tue.cu8", frames=2))
    assert kinds(out) == ["replay"]
    fs = out[0].evidence["first_seen"]
    assert fs["capture"] == "mon.cu8" and fs["t"] == pytest.approx(3.0)
    assert fs["earlier_run"] is True
    assert out[0].evidence["since_first_seen_s"] == pytest.approx(86400 + 2.0)


def test_rescanning_the_same_file_does_not_replay_itself(tmp_path):
    p = tmp_path / "s.db"
    pk = press(3.0, 0x1111) + press(9.0, 0x2222)
    assert scan(p, "mon.cu8", "a" * 64, MON, pk) == []
    assert scan(p, "copy-of-mon.cu8", "a" * 64, MON, pk) == []
    with State(p) as st:
        assert st.stats()["captures"] == 1
        assert st.stats()["presses"] == 2


def test_the_newest_code_of_an_identity_persists_across_runs(tmp_path):
    # the replay rule for learned codes asks whether a code is its identity's newest
    p = tmp_path / "s.db"
    scan(p, "mon.cu8", "a" * 64, MON, press(3.0, 0x1111) + press(9.0, 0x2222) +
         press(20.0, 0x3333, serial=0x0BEEF))
    with State(p) as st:
        st.begin_capture(0, "tue.cu8", "b" * 64, 0.0, start_time=TUE)
        assert st.latest_code("keeloq:0D36C681") == "00002222:D36C681"
        assert st.latest_code("keeloq:0000BEEF") == "00003333:000BEEF"
        assert st.latest_code("keeloq:00000001") is None


def test_counters_persist_for_rollback_across_runs(tmp_path):
    p = tmp_path / "s.db"
    scan(p, "mon.cu8", "a" * 64, MON, press(3.0, 0x1111, counter=700) +
         press(9.0, 0x2222, counter=701))
    out = scan(p, "tue.cu8", "b" * 64, TUE,
               press(5.0, 0xA1, counter=650, frames=2, capture="tue.cu8") +
               press(5.6, 0xA2, counter=651, frames=2, capture="tue.cu8"))
    # the first old counter is a replay at once; the second escalates it to a RollBack
    assert kinds(out) == ["replay", "rollback"]
    assert out[1].evidence["escalates"][0]["kind"] == "replay"


def test_jamming_spans_persist_for_rolljam_across_runs(tmp_path):
    from detect_fakes import BurstInfo
    p = tmp_path / "s.db"
    with State(p) as st:
        e = DetectionEngine(profiles=PROFILES, state=st)
        e.begin_capture("mon.cu8", start_time=MON, sha256="a" * 64)
        out = e.observe(BurstInfo(t=2.0, t_end=6.0, freq_hz=433.85e6, rssi_db=-10,
                                  on_fraction=1.0), [])
        out += feed(e, press(3.0, 0x1111))
        out += e.finish()
    assert kinds(out) == ["jamming"]
    out = scan(p, "tue.cu8", "b" * 64, TUE, press(5.0, 0x1111, capture="tue.cu8", frames=2))
    assert kinds(out) == ["rolljam"]
    assert out[0].evidence["jamming_at_original"][0]["earlier_run"] is True


def test_a_text_file_is_refused_with_one_line(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(StateError) as ei:
        State(p)
    msg = str(ei.value)
    assert "not a keyguard state file" in msg and str(p) in msg and "\n" not in msg


def test_another_programs_sqlite_database_is_refused(tmp_path):
    p = tmp_path / "other.db"
    db = sqlite3.connect(p)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="not a keyguard state file"):
        State(p)


def test_a_newer_schema_is_refused(tmp_path):
    p = tmp_path / "s.db"
    State(p).close()
    db = sqlite3.connect(p)
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer"):
        State(p)


def test_a_directory_or_missing_folder_is_refused(tmp_path):
    with pytest.raises(StateError, match="directory"):
        State(tmp_path)
    with pytest.raises(StateError, match="folder does not exist"):
        State(tmp_path / "nope" / "s.db")


def test_enrolled_fingerprints_are_kept_and_listed(tmp_path):
    p = tmp_path / "s.db"
    rng = np.random.default_rng(0)
    vecs = [rng.normal(size=len(FEATURE_NAMES)) for _ in range(5)]
    with State(p) as st:
        assert st.enroll("keeloq:0D36C681", "car key", FEATURE_NAMES, vecs, origin="enroll.cu8") == 5
    with State(p) as st:
        assert st.enrolled_identities() == [("keeloq:0D36C681", "car key", 5)]
        got = st.fingerprints("keeloq:0D36C681", FEATURE_NAMES)
        assert len(got) == 5 and all(r.source == "enrolled" for r in got)
        assert got[0].capture == "enroll.cu8"
        assert np.allclose(sorted(r.vector[0] for r in got), sorted(v[0] for v in vecs))
        # another feature set is never mixed in
        assert st.fingerprints("keeloq:0D36C681", FEATURE_NAMES[:-1]) == []
        assert st.fingerprints("keeloq:0D36C681", ("other",) + FEATURE_NAMES) == []


def test_fingerprints_of_an_earlier_feature_set_come_back_padded(tmp_path):
    # a feature appended to the vector must not unenroll the owner's fob: vectors stored with a
    # prefix of today's names read back with NaN in the features they lack
    p = tmp_path / "s.db"
    old = FEATURE_NAMES[:-2]
    rng = np.random.default_rng(1)
    v_old = rng.normal(size=len(old))
    v_new = rng.normal(size=len(FEATURE_NAMES))
    with State(p) as st:
        st.enroll("pt2262:00005F0C", "gate", old, [v_old])
        st.enroll("pt2262:00005F0C", "gate", FEATURE_NAMES, [v_new])
        st.enroll("pt2262:00005F0C", "gate", ("x",) + old, [np.zeros(len(old) + 1)])
    with State(p) as st:
        got = st.fingerprints("pt2262:00005F0C", FEATURE_NAMES)
        assert len(got) == 2 and all(r.vector.size == len(FEATURE_NAMES) for r in got)
        padded = [r.vector for r in got if np.isnan(r.vector[-1])]
        assert len(padded) == 1
        assert np.array_equal(padded[0][:len(old)], v_old) and np.isnan(padded[0][len(old):]).all()
        assert any(np.array_equal(r.vector, v_new) for r in got)
        # the earlier set itself does not see the later, longer vectors
        assert [r.vector.size for r in st.fingerprints("pt2262:00005F0C", old)] == [len(old)]


def test_two_writers_share_one_file(tmp_path):
    p = tmp_path / "s.db"
    State(p).close()
    errors = []

    def writer(k):
        try:
            with State(p) as st:
                for j in range(20):
                    st.begin_capture(j, f"w{k}-{j}.cu8", f"{k:02d}{j:062d}", float(j))
                    st.add_press(j, "keeloq", "keeloq:1", f"{k}:{j}", j, 0.0, 0.1, 0.0, 0.1, 1)
                    st.end_capture(j)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with State(p) as st:
        assert st.stats()["presses"] == 60 and st.stats()["captures"] == 60
