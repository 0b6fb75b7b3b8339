"""The ``Sink`` interface: where contract records (capture, packet, alert, summary) go.

A sink receives the records as plain dicts (``record.to_dict()`` of :mod:`keyguard.events`) and
serialises them with :func:`keyguard.events.dumps`, so every output carries the same bytes.
``emit`` may raise when the destination fails; :class:`keyguard.alerts.dispatch.SinkSet` isolates
sinks from the detector and from each other, reports the failure and retries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

#: Receives one human line when a sink connects, fails, retries or recovers.
SinkEventCallback = Callable[[str], None]

RECORD_TYPES = ("capture", "packet", "alert", "summary")


class SinkError(Exception):
    """A sink could not deliver a record right now (the dispatcher reports it and retries)."""


def as_record(obj: Any) -> dict:
    """A contract record as a dict: dicts pass through, events dataclasses give ``to_dict()``."""
    if isinstance(obj, dict):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if to_dict is None:
        raise TypeError(f"not a contract record: {type(obj).__name__}")
    return to_dict()


class Sink(ABC):
    """A destination for contract records.

    name: how messages refer to it (secrets such as passwords are never part of it).
    types: the record types it takes (others are skipped by :meth:`wants`).
    """

    name: str = "sink"
    types: tuple[str, ...] = RECORD_TYPES

    def wants(self, record: dict) -> bool:
        return record.get("type") in self.types

    @abstractmethod
    def emit(self, record: dict) -> None:
        """Deliver (or durably queue) one record; raise on failure so the caller can retry."""

    def flush(self) -> None:
        """Push out anything buffered (best effort, bounded time)."""

    def close(self) -> None:
        """Flush and release files, sockets and threads."""
        self.flush()
