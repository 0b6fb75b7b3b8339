"""Detection state that outlives one run: a SQLite file (``--state FILE``).

What it keeps: the captures scanned (name, SHA-256, start time, receiver), every press of a
code-bearing transmitter (identity, code, counter, where and when), RF fingerprints per identity
(seen in scans, or enrolled by the owner with ``keyguard enroll``), and jamming spans. With it a
capture from Tuesday is checked against Monday's codes, fingerprints and jamming.

Safe to share: the file is in WAL mode, writes are buffered in memory and committed in short
``BEGIN IMMEDIATE`` transactions (so a long scan never holds the write lock), and readers never
block. Rescanning a file (same SHA-256) replaces what the earlier scan of it recorded instead of
reporting every code as a replay of itself. The schema is versioned (``meta.schema_version``); a
file that is not a keyguard state file, or was written by a newer keyguard, is refused with a
:class:`~keyguard.errors.StateError`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from keyguard.errors import StateError

APP_ID = "keyguard-state"
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: pending rows that trigger a commit even before the capture ends
_FLUSH_ROWS = 512

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE captures (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT, start_time TEXT,
    offset_s REAL NOT NULL, duration_s REAL, receiver TEXT, scanned_at TEXT NOT NULL);
CREATE INDEX captures_sha ON captures(sha256);
CREATE TABLE presses (
    id INTEGER PRIMARY KEY, capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    protocol TEXT NOT NULL, identity TEXT, code TEXT, counter INTEGER,
    t REAL NOT NULL, t_end REAL NOT NULL, abs_t REAL NOT NULL, abs_end REAL NOT NULL,
    frames INTEGER NOT NULL);
CREATE INDEX presses_code ON presses(code);
CREATE INDEX presses_identity ON presses(identity, counter);
CREATE TABLE feature_sets (id TEXT PRIMARY KEY, names TEXT NOT NULL);
CREATE TABLE fingerprints (
    id INTEGER PRIMARY KEY, identity TEXT NOT NULL,
    capture_id INTEGER REFERENCES captures(id) ON DELETE CASCADE,
    t REAL, abs_t REAL, source TEXT NOT NULL CHECK (source IN ('seen', 'enrolled')),
    label TEXT, origin TEXT, receiver TEXT,
    feature_set TEXT NOT NULL REFERENCES feature_sets(id),
    vector BLOB NOT NULL);
CREATE INDEX fingerprints_identity ON fingerprints(identity);
CREATE TABLE jams (
    id INTEGER PRIMARY KEY, capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    t REAL NOT NULL, t_end REAL NOT NULL, abs_t REAL NOT NULL, abs_end REAL NOT NULL,
    freq_hz REAL);
CREATE INDEX jams_time ON jams(abs_end);
"""


@dataclass(frozen=True)
class PressRecord:
    """A press (one or more frames of one code) as stored. Times in s: ``t`` from the capture's
    first sample, ``abs_t`` on the detection timeline (POSIX time when the start was known)."""

    capture: str
    sha256: str | None
    protocol: str
    identity: str | None
    code: str | None
    counter: int | None
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    frames: int
    #: the capture's start time was known, so ``abs_t`` is POSIX time, not a placeholder
    dated: bool = True

    @classmethod
    def of_row(cls, row: tuple) -> "PressRecord":
        """From a query selecting the fields in order, then ``start_time IS NOT NULL``."""
        return cls(*row[:-1], dated=bool(row[-1]))


@dataclass(frozen=True)
class FingerprintRecord:
    identity: str
    source: str          # "seen" or "enrolled"
    label: str | None
    capture: str | None
    receiver: str | None
    t: float | None
    abs_t: float | None
    names: tuple[str, ...]
    vector: np.ndarray   # float64, one value per name


@dataclass(frozen=True)
class JamRecord:
    capture: str
    t: float
    t_end: float
    abs_t: float
    abs_end: float
    freq_hz: float | None


def feature_set_id(names: Sequence[str]) -> str:
    """Stable id of a list of feature names (fingerprints are comparable only within one set)."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


class State:
    """An open state file. Use as a context manager, or call :meth:`close`.

    ``State(":memory:")`` gives a private in-memory state (tests, one-off runs).
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 10.0):
        self.path = str(path)
        self._pending: dict[str, list[tuple]] = {"presses": [], "jams": [], "fingerprints": []}
        self._capture_ids: dict[int, int] = {}  # run-local capture handle -> row id
        self._run_rows: set[int] = set()        # capture rows written by this run
        self._feature_sets: set[str] = set()
        self._db = self._open(timeout_s)

    # opening -------------------------------------------------------------------------------
    def _open(self, timeout_s: float) -> sqlite3.Connection:
        p = Path(self.path)
        memory = self.path == ":memory:"
        if not memory:
            if p.is_dir():
                raise StateError("is a directory, not a state file", self.path,
                                 "give a file path for --state")
            if p.exists() and p.stat().st_size > 0:
                try:
                    with open(p, "rb") as f:
                        head = f.read(16)
                except OSError as e:
                    raise StateError(f"cannot read the state file ({e.strerror})", self.path) from None
                if head != _SQLITE_MAGIC:
                    raise StateError("not a keyguard state file (not SQLite)", self.path,
                                     "pass a new file name or an earlier keyguard --state file")
            elif not p.parent.exists():
                raise StateError("its folder does not exist", self.path, "create the folder first")
        try:
            db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise StateError(f"cannot open the state file ({e})", self.path) from None
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                if not memory:
                    db.execute("PRAGMA journal_mode = WAL")
                self._create(db)
            else:
                self._check(db, tables)
                if not memory:
                    db.execute("PRAGMA journal_mode = WAL")
            for (fid,) in db.execute("SELECT id FROM feature_sets"):
                self._feature_sets.add(fid)
        except sqlite3.DatabaseError as e:
            db.close()
            raise StateError(f"not a usable keyguard state file ({e})", self.path) from None
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            # another process may have created it between our look and our lock
            if db.execute("SELECT count(*) FROM sqlite_master WHERE name='meta'").fetchone()[0]:
                db.execute("COMMIT")
                self._check(db, {"meta"})
                return
            # statement by statement: executescript() would commit our open transaction first
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("app", APP_ID), ("schema_version", str(SCHEMA_VERSION)),
                ("created", _now())])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _check(self, db: sqlite3.Connection, tables: set[str]) -> None:
        if "meta" not in tables:
            raise StateError("not a keyguard state file (an SQLite database of something else)",
                             self.path, "pass a new file name")
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if meta.get("app") != APP_ID:
            raise StateError("not a keyguard state file (an SQLite database of something else)",
                             self.path, "pass a new file name")
        try:
            version = int(meta.get("schema_version", ""))
        except ValueError:
            raise StateError("state file has no valid schema version", self.path) from None
        if version > SCHEMA_VERSION:
            raise StateError(f"state file schema {version} is newer than this keyguard "
                             f"understands ({SCHEMA_VERSION})", self.path, "upgrade keyguard")

    # lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self) -> "State":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._meta("schema_version"))

    def _meta(self, key: str) -> str | None:
        r = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if r is None else r[0]

    def _write(self, fn) -> None:
        """Run ``fn(db)`` in one short immediate transaction."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                fn(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as e:
            raise StateError(f"cannot write the state file ({e})", self.path,
                             "another program may hold it locked") from None

    def flush(self) -> None:
        """Commit buffered presses, jams and fingerprints."""
        if not any(self._pending.values()):
            return
        pending, self._pending = self._pending, {k: [] for k in self._pending}

        def go(db):
            db.executemany("INSERT INTO presses (capture_id, protocol, identity, code, counter, t, "
                           "t_end, abs_t, abs_end, frames) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           pending["presses"])
            db.executemany("INSERT INTO jams (capture_id, t, t_end, abs_t, abs_end, freq_hz) "
                           "VALUES (?,?,?,?,?,?)", pending["jams"])
            db.executemany("INSERT INTO fingerprints (identity, capture_id, t, abs_t, source, label,"
                           " origin, receiver, feature_set, vector) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           pending["fingerprints"])
        self._write(go)

    def _maybe_flush(self) -> None:
        if sum(len(v) for v in self._pending.values()) >= _FLUSH_ROWS:
            self.flush()

    # captures ------------------------------------------------------------------------------
    def begin_capture(self, handle: int, name: str, sha256: str | None, offset_s: float,
                      start_time: datetime | None = None, duration_s: float | None = None,
                      receiver: str | None = None) -> None:
        """Register a capture about to be scanned (``handle`` is the caller's run-local id).

        A capture with the same SHA-256 scanned before is replaced: its earlier presses, seen
        fingerprints and jams are deleted (enrolled fingerprints stay).
        """
        self.flush()
        out: dict[str, int] = {}

        def go(db):
            row = None
            if sha256 is not None:
                row = db.execute("SELECT id FROM captures WHERE sha256 = ? ORDER BY id LIMIT 1",
                                 (sha256,)).fetchone()
            st = None if start_time is None else start_time.astimezone(timezone.utc).isoformat()
            if row is None:
                cur = db.execute("INSERT INTO captures (name, sha256, start_time, offset_s, "
                                 "duration_s, receiver, scanned_at) VALUES (?,?,?,?,?,?,?)",
                                 (name, sha256, st, offset_s, duration_s, receiver, _now()))
                out["id"] = int(cur.lastrowid)
            else:
                cid = int(row[0])
                db.execute("DELETE FROM presses WHERE capture_id = ?", (cid,))
                db.execute("DELETE FROM jams WHERE capture_id = ?", (cid,))
                db.execute("DELETE FROM fingerprints WHERE capture_id = ? AND source = 'seen'",
                           (cid,))
                db.execute("UPDATE captures SET name=?, start_time=?, offset_s=?, duration_s=?, "
                           "receiver=?, scanned_at=? WHERE id=?",
                           (name, st, offset_s, duration_s, receiver, _now(), cid))
                out["id"] = cid
        self._write(go)
        self._capture_ids[handle] = out["id"]
        self._run_rows.add(out["id"])

    def end_capture(self, handle: int) -> None:
        self.flush()

    def _cid(self, handle: int) -> int:
        try:
            return self._capture_ids[handle]
        except KeyError:
            raise ValueError(f"capture handle {handle} was not begun") from None

    def _not_this_run(self) -> str:
        ids = ",".join(str(i) for i in sorted(self._run_rows)) or "-1"
        return f"c.id NOT IN ({ids})"

    # presses -------------------------------------------------------------------------------
    def add_press(self, handle: int, protocol: str, identity: str | None, code: str | None,
                  counter: int | None, t: float, t_end: float, abs_t: float, abs_end: float,
                  frames: int) -> None:
        self._pending["presses"].append((self._cid(handle), protocol, identity, code, counter,
                                         t, t_end, abs_t, abs_end, int(frames)))
        self._maybe_flush()

    def _press_rows(self, where: str, args: tuple, limit: int) -> list[PressRecord]:
        q = ("SELECT c.name, c.sha256, p.protocol, p.identity, p.code, p.counter, p.t, p.t_end, "
             "p.abs_t, p.abs_end, p.frames, c.start_time IS NOT NULL FROM presses p JOIN captures c ON c.id = p.capture_id "
             f"WHERE {where} AND {self._not_this_run()} ORDER BY p.abs_t LIMIT {int(limit)}")
        return [PressRecord.of_row(r) for r in self._db.execute(q, args)]

    def presses_with_code(self, code: str, limit: int = 16) -> list[PressRecord]:
        """Earlier runs' presses of ``code``, oldest first (this run's own are not included)."""
        return self._press_rows("p.code = ?", (code,), limit)

    def newest_counter(self, identity: str) -> PressRecord | None:
        """The earlier runs' press of ``identity`` with the highest counter, or None."""
        q = ("SELECT c.name, c.sha256, p.protocol, p.identity, p.code, p.counter, p.t, p.t_end, "
             "p.abs_t, p.abs_end, p.frames, c.start_time IS NOT NULL FROM presses p JOIN captures c ON c.id = p.capture_id "
             f"WHERE p.identity = ? AND p.counter IS NOT NULL AND {self._not_this_run()} "
             "ORDER BY p.counter DESC, p.abs_t LIMIT 1")
        r = self._db.execute(q, (identity,)).fetchone()
        return None if r is None else PressRecord.of_row(r)

    def latest_code(self, identity: str) -> str | None:
        """The code of the earlier runs' newest press of ``identity`` (by end time), or None."""
        q = ("SELECT p.code FROM presses p JOIN captures c ON c.id = p.capture_id "
             f"WHERE p.identity = ? AND p.code IS NOT NULL AND {self._not_this_run()} "
             "ORDER BY p.abs_end DESC LIMIT 1")
        r = self._db.execute(q, (identity,)).fetchone()
        return None if r is None else r[0]

    def distinct_codes(self, identity: str, limit: int = 8) -> int:
        """How many different codes earlier runs heard from ``identity`` (counted up to
        ``limit``)."""
        q = ("SELECT count(*) FROM (SELECT DISTINCT p.code FROM presses p JOIN captures c "
             f"ON c.id = p.capture_id WHERE p.identity = ? AND p.code IS NOT NULL AND "
             f"{self._not_this_run()} LIMIT ?)")
        return int(self._db.execute(q, (identity, int(limit))).fetchone()[0])

    def identity_presses(self, identity: str, limit: int = 1000) -> list[PressRecord]:
        return self._press_rows("p.identity = ?", (identity,), limit)

    # jams ----------------------------------------------------------------------------------
    def add_jam(self, handle: int, t: float, t_end: float, abs_t: float, abs_end: float,
                freq_hz: float | None) -> None:
        self._pending["jams"].append((self._cid(handle), t, t_end, abs_t, abs_end, freq_hz))
        self._maybe_flush()

    def jams_overlapping(self, abs_t: float, abs_end: float) -> list[JamRecord]:
        """Earlier runs' jamming spans that overlap [abs_t, abs_end] (timeline seconds)."""
        q = ("SELECT c.name, j.t, j.t_end, j.abs_t, j.abs_end, j.freq_hz FROM jams j "
             "JOIN captures c ON c.id = j.capture_id WHERE j.abs_end >= ? AND j.abs_t <= ? AND "
             f"{self._not_this_run()} ORDER BY j.abs_t")
        return [JamRecord(*r) for r in self._db.execute(q, (abs_t, abs_end))]

    # fingerprints --------------------------------------------------------------------------
    def _feature_set(self, names: Sequence[str]) -> str:
        fid = feature_set_id(names)
        if fid not in self._feature_sets:
            self._write(lambda db: db.execute("INSERT OR IGNORE INTO feature_sets VALUES (?, ?)",
                                              (fid, json.dumps(list(names)))))
            self._feature_sets.add(fid)
        return fid

    def add_fingerprint(self, identity: str, names: Sequence[str], vector: np.ndarray, *,
                        handle: int | None = None, t: float | None = None,
                        abs_t: float | None = None, source: str = "seen",
                        label: str | None = None, origin: str | None = None,
                        receiver: str | None = None) -> None:
        """Store one fingerprint (a feature vector, float64, one value per name)."""
        if source not in ("seen", "enrolled"):
            raise ValueError("source must be 'seen' or 'enrolled'")
        v = np.asarray(vector, dtype=np.float64).ravel()
        if v.size != len(names):
            raise ValueError("vector and names differ in length")
        fid = self._feature_set(names)
        cid = None if handle is None else self._cid(handle)
        self._pending["fingerprints"].append((identity, cid, t, abs_t, source, label, origin,
                                              receiver, fid, v.astype("<f8").tobytes()))
        if source == "enrolled":
            self.flush()  # enrollment is rare and must not be lost
        else:
            self._maybe_flush()

    def fingerprints(self, identity: str, names: Sequence[str], *, include_this_run: bool = False,
                     limit: int = 1000) -> list[FingerprintRecord]:
        """Fingerprints of ``identity`` stored with the same feature names, enrolled first.

        Vectors stored with an earlier feature set whose names are a prefix of ``names`` (the
        vector only grows at its end) come back too, NaN in the features they lack: an enrolled
        fob stays enrolled when a feature is added."""
        sets = self._prefix_sets(names)
        cond = "1" if include_this_run else (
            f"(f.source = 'enrolled' OR f.capture_id IS NULL OR {self._not_this_run()})")
        marks = ",".join("?" * len(sets))
        q = ("SELECT f.identity, f.source, f.label, coalesce(c.name, f.origin), "
             "coalesce(f.receiver, c.receiver), f.t, "
             "f.abs_t, f.vector "
             "FROM fingerprints f LEFT JOIN captures c ON c.id = f.capture_id "
             f"WHERE f.identity = ? AND f.feature_set IN ({marks}) AND {cond} "
             "ORDER BY f.source = 'seen', f.abs_t DESC, f.id DESC LIMIT ?")
        out = []
        for ident, src, label, cap, rx, t, at, blob in self._db.execute(
                q, (identity, *sets, limit)):
            v = np.frombuffer(blob, dtype="<f8").astype(np.float64)
            if v.size < len(names):
                v = np.concatenate([v, np.full(len(names) - v.size, np.nan)])
            out.append(FingerprintRecord(ident, src, label, cap, rx, t, at, tuple(names), v))
        return out

    def _prefix_sets(self, names: Sequence[str]) -> list[str]:
        """Ids of the stored feature sets whose names are ``names`` or a prefix of them."""
        want = list(names)
        out = [feature_set_id(names)]
        for fid, stored in self._db.execute("SELECT id, names FROM feature_sets"):
            have = json.loads(stored)
            if fid != out[0] and 0 < len(have) < len(want) and want[:len(have)] == have:
                out.append(fid)
        return out

    def enrolled_identities(self) -> list[tuple[str, str | None, int]]:
        """(identity, label, number of enrolled fingerprints) for every enrolled fob."""
        q = ("SELECT identity, max(label), count(*) FROM fingerprints WHERE source = 'enrolled' "
             "GROUP BY identity ORDER BY identity")
        return [(a, b, int(c)) for a, b, c in self._db.execute(q)]

    def enroll(self, identity: str, label: str | None, names: Sequence[str],
               vectors: Iterable[np.ndarray], origin: str | None = None,
               receiver: str | None = None) -> int:
        """Record an owner's genuine fingerprints for ``identity`` (``origin``: the capture they
        came from; ``receiver``: the radio that recorded it, so later scans with the same radio
        compare carrier offsets directly); returns how many were added."""
        n = 0
        for v in vectors:
            self.add_fingerprint(identity, names, v, source="enrolled", label=label, origin=origin,
                                 receiver=receiver)
            n += 1
        self.flush()
        return n

    def stats(self) -> dict[str, int]:
        """Row counts (captures, presses, fingerprints, jams) for reports and tests."""
        return {t: int(self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in ("captures", "presses", "fingerprints", "jams")}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
