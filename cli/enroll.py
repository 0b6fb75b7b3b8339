"""``keyguard enroll``: record the owner's genuine fob fingerprint in a state file."""

from __future__ import annotations

import click

from cli.info import HZ


@click.command()
@click.argument("capture", metavar="CAPTURE")
@click.option("--identity", required=True, metavar="ID",
              help="The fob's identity as packets show it, e.g. keeloq:0D36C681.")
@click.option("--label", metavar="TEXT", help="A name for the fob (\"car key, blue\").")
@click.option("--state", "state_path", required=True, metavar="FILE",
              help="State file to record it in (created if missing); give the same file to "
              "`keyguard scan --state`.")
@click.option("--receiver", metavar="NAME", help="Name of the radio that made the capture; "
              "scans with the same --receiver compare carrier offsets directly.")
@click.option("--profiles", "profile_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True), help="Also load the .toml profiles in DIR.")
@click.option("--sample-rate", type=HZ, help="Sample rate in Hz (overrides the file's).")
@click.option("--center-freq", type=HZ, help="Centre frequency in Hz (overrides the file's).")
def enroll(capture: str, identity: str, label: str | None, state_path: str,
           receiver: str | None, profile_dirs: tuple[str, ...], sample_rate: float | None,
           center_freq: float | None) -> int:
    """Record the RF fingerprint of the fob IDENTITY from CAPTURE (an IQ recording of the owner
    pressing it a few times near the receiver) as genuine, so that clone and relay detection
    compare every later press of it with the owner's own radio."""
    from keyguard.detect.enroll import enroll_capture
    from keyguard.io import open_capture
    from keyguard.protocols.registry import load_registry
    from keyguard.state import State

    cap = open_capture(capture, sample_rate=sample_rate, center_freq=center_freq)
    registry = load_registry(profile_dirs)
    with State(state_path) as st:
        res = enroll_capture(st, cap, identity, label, registry, receiver)
    name = f" ({res.label})" if res.label else ""
    click.echo(f"enrolled {res.presses} press(es) of {res.identity}{name} from {capture} "
               f"({res.bursts} bursts) into {state_path}")
    return 0
