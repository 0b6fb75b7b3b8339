"""``keyguard info``: what a capture is (placeholder until the capture I/O layer lands)."""

from __future__ import annotations

import click


@click.command()
@click.argument("captures", nargs=-1, required=True)
def info(captures: tuple[str, ...]) -> int:
    """Describe CAPTURE files: format, rate, centre, duration, start time, SHA-256, levels."""
    raise click.UsageError("not implemented yet")
