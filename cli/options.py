"""Options shared by the commands that read captures and decode them (one definition each)."""

from __future__ import annotations

from typing import Callable

import click

from cli.info import HZ
from keyguard.events import SEVERITIES
from keyguard.io.naming import FORMAT_WORDS


def input_options(f: Callable) -> Callable:
    """--input-format, --sample-rate, --center-freq, --start-time: override file metadata."""
    for opt in reversed([
        click.option("--input-format", "input_format", metavar="FMT",
                     type=click.Choice(sorted(FORMAT_WORDS), case_sensitive=False),
                     help="Force the input format (like rtl_433's FMT:path prefix)."),
        click.option("--sample-rate", type=HZ, help="Sample rate in Hz (250k, 2.4M...) of raw "
                     "IQ files; overrides the file name and metadata."),
        click.option("--center-freq", type=HZ, help="Centre frequency in Hz (433.92M...)."),
        click.option("--start-time", metavar="ISO", help="UTC time of the first sample "
                     "(ISO-8601); gives packets and alerts a `time`."),
    ]):
        f = opt(f)
    return f


def decode_options(f: Callable) -> Callable:
    """--protocol, --profiles, --keys: which firmware profiles decode, with which keys."""
    for opt in reversed([
        click.option("--protocol", "protocols", multiple=True, metavar="NAME",
                     help="Only try this profile (repeatable); `keyguard profile list` names "
                     "them."),
        click.option("--profiles", "profile_dirs", multiple=True, metavar="DIR",
                     type=click.Path(exists=True), help="Also load the .toml profiles in DIR "
                     "(or one .toml file); repeatable."),
        click.option("--keys", "keys_file", metavar="FILE",
                     type=click.Path(exists=True, dir_okay=False),
                     help="KeeLoq manufacturer keys (your own) to decrypt hops."),
    ]):
        f = opt(f)
    return f


def detect_options(f: Callable) -> Callable:
    """--state, --model, --min-severity: what detection remembers and reports."""
    for opt in reversed([
        click.option("--state", "state_path", metavar="FILE", type=click.Path(dir_okay=False),
                     help="SQLite state kept between runs (codes, fingerprints, enrolled "
                     "fobs), so today's capture is checked against earlier ones."),
        click.option("--model", "model_path", metavar="FILE",
                     type=click.Path(exists=True, dir_okay=False),
                     help="Burst classifier (.skops from `keyguard train`); default: the "
                     "model shipped with keyguard."),
        click.option("--receiver", metavar="NAME", help="Name of the receiver (dongle) that "
                     "made the captures, as given to `keyguard enroll --receiver`: carrier "
                     "offsets are compared only between captures of one receiver."),
        click.option("--min-severity", type=click.Choice(SEVERITIES), default="info",
                     show_default=True, help="Report alerts at or above this severity; the "
                     "exit status is 1 when there is one."),
    ]):
        f = opt(f)
    return f
