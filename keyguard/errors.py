"""Exception types raised by the keyguard library.

Every error caused by what a user handed in (a file, an option, a profile, a model) is an
``InputError``: its message is one line that says what is wrong, with which file, and what to do.
The CLI prints that line and exits with status 2; it never shows a traceback for these.
"""

from __future__ import annotations

from pathlib import Path


class KeyguardError(Exception):
    """Base class of every exception keyguard raises on purpose."""


class InputError(KeyguardError):
    """Bad input from the user: one clear line, CLI exit status 2."""

    def __init__(self, message: str, path: str | Path | None = None, hint: str | None = None):
        self.path = None if path is None else str(path)
        self.hint = hint
        text = message if self.path is None else f"{self.path}: {message}"
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class CaptureError(InputError):
    """A capture file is missing, unreadable, or not of the format it claims."""


class CaptureNotFoundError(CaptureError):
    """The capture path does not exist or is not a regular file."""


class CaptureFormatError(CaptureError):
    """The capture's bytes or metadata do not fit its format (unknown datatype, NaN, bad rate...)."""


class ProfileError(InputError):
    """A firmware profile (TOML) is malformed; the message names the file and the key."""


class ModelError(InputError):
    """A model file is not a keyguard model, or is stored in an unsafe format."""


class ScenarioError(InputError):
    """A simulator scenario (TOML) is malformed."""


class StateError(InputError):
    """A state file (SQLite) cannot be opened or is not a keyguard state file."""


class EnrollmentError(InputError):
    """A capture given to ``keyguard enroll`` holds nothing of the fob to enrol."""


class SourceError(KeyguardError):
    """A live source (RTL-SDR dongle, rtl_tcp server) cannot be opened or failed."""


class KeyManagementError(InputError):
    """A KeeLoq manufacturer-key file is malformed."""
