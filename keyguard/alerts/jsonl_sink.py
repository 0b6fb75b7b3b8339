"""Append-only JSON Lines file: each record is one ``write()`` of one whole line.

The file is opened with ``O_APPEND``; a line goes to the kernel in a single system call, so a
process killed at any moment (kill -9) leaves whole lines behind (a line longer than a memory
page could in principle be cut between pages; see ``_repair_tail``). Alerts (and the summary)
are followed by ``fsync`` so they also survive a power cut. When a file is opened again, a torn
fragment after its last newline is removed first, so new lines are never glued to it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyguard.alerts.sink import Sink, SinkError
from keyguard.errors import InputError
from keyguard.events import dumps

FSYNC_POLICIES = ("alert", "every", "never")
#: Longest trailing fragment that is parsed to see whether it is a whole record (bytes).
MAX_WHOLE_TAIL = 1 << 24


class SinkOpenError(InputError):
    """An output file for a sink cannot be opened for appending."""


class JsonlFileSink(Sink):
    """Append records to ``path`` as JSON Lines.

    fsync: ``alert`` (after alert and summary records), ``every`` record, or ``never``.
    """

    def __init__(self, path: str | os.PathLike, fsync: str = "alert"):
        if fsync not in FSYNC_POLICIES:
            raise ValueError(f"unknown fsync policy {fsync!r} ({', '.join(FSYNC_POLICIES)})")
        self.path = Path(path)
        self.name = f"jsonl:{self.path}"
        self.fsync = fsync
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                               0o644)
        except OSError as e:
            raise SinkOpenError(f"cannot open for appending: {e.strerror}", self.path,
                                "check the directory exists and is writable") from None
        self._torn = False
        self.repaired: str | None = None
        self._repair_tail()

    def _repair_tail(self) -> None:
        """Make the file end with a whole line before appending to it.

        A writer killed inside a multi-page write() (the kernel may stop between pages on a
        fatal signal) or a power cut can leave a fragment after the last newline. A fragment
        that is a whole JSON object only lacks its newline and gets one; anything else is
        cut off, so that every line of the file parses. ``repaired`` says what was done.
        """
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            start, pos = 0, size
            while pos > 0:  # find the last newline, reading backwards
                step = min(1 << 16, pos)
                pos -= step
                f.seek(pos)
                chunk = f.read(step)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    start = pos + i + 1
                    break
            f.seek(start)
            fragment = f.read(min(size - start, MAX_WHOLE_TAIL + 1))
        try:
            json.loads(fragment)
            whole = size - start <= MAX_WHOLE_TAIL
        except ValueError:
            whole = False
        if whole:
            self._write(b"\n")
            self.repaired = "added the newline missing after the last line"
        else:
            os.ftruncate(self._fd, start)
            self.repaired = (f"removed a torn last line ({size - start} bytes) left by an "
                             f"interrupted writer")

    def _write(self, data: bytes) -> None:
        if self._torn:
            data = b"\n" + data  # end the fragment a failed write left, so retries stay whole
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._fd, view)
            except OSError as e:
                if len(view) < len(data):
                    self._torn = True  # part of this line reached the file
                raise SinkError(f"{self.path}: write failed: {e.strerror}") from None
            view = view[n:]  # a short write only happens when the disk is full
        self._torn = False

    def emit(self, record: dict) -> None:
        if self._fd < 0:
            raise SinkError(f"{self.path}: sink is closed")
        self._write((dumps(record) + "\n").encode("utf-8"))
        if self.fsync == "every" or (self.fsync == "alert"
                                     and record.get("type") in ("alert", "summary")):
            self._sync()

    def _sync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as e:
            raise SinkError(f"{self.path}: fsync failed: {e.strerror}") from None

    def flush(self) -> None:
        if self._fd >= 0 and self.fsync != "never":
            self._sync()

    def close(self) -> None:
        if self._fd >= 0:
            try:
                self.flush()
            finally:
                os.close(self._fd)
                self._fd = -1
