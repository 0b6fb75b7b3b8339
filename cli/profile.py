"""``keyguard profile``: list, check and learn firmware profiles."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def profile() -> None:
    """Firmware profiles: the protocol descriptions `keyguard decode` uses."""


@profile.command("list")
@click.option("--profiles", "profile_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True), help="Also load the .toml profiles in DIR.")
@click.option("--format", "out_format", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
def list_(profile_dirs: tuple[str, ...], out_format: str) -> int:
    """List the loaded profiles: name, modulation, line code, timing, bits, source."""
    from keyguard.protocols.registry import load_registry

    reg = load_registry(profile_dirs)
    for p in reg:
        bits = (f"{p.frame.bits_min}" if p.frame.bits_min == p.frame.bits_max
                else f"{p.frame.bits_min}-{p.frame.bits_max}")
        if out_format == "jsonl":
            click.echo(json.dumps({
                "name": p.name, "family": p.family, "description": p.description,
                "modulation": p.modulation, "line_code": p.line_code,
                "te_short_us": p.timing.te_short_us, "te_long_us": p.timing.te_long_us,
                "bits": [p.frame.bits_min, p.frame.bits_max], "parts": p.frame.parts,
                "codec": p.codec, "identity": list(p.identity), "code": list(p.code),
                "rolling": p.is_rolling, "source": p.source}, ensure_ascii=False))
        else:
            timing = f"{p.timing.te_short_us:g}/{p.timing.te_long_us:g}"
            click.echo(f"{p.name:16s} {p.modulation:4s} {p.line_code:14s} {timing:>11s} µs "
                       f"{bits:>7s} bits  {'rolling' if p.is_rolling else 'fixed  '}  "
                       f"{p.description}")
    return 0


@profile.command("check")
@click.argument("paths", nargs=-1, required=True, metavar="DIR_OR_FILE...")
def check(paths: tuple[str, ...]) -> int:
    """Validate profile files (a directory's .toml files, or single files).

    Prints one line per valid profile. The first malformed file stops the check with one line
    naming the file and the key (exit status 2).
    """
    from keyguard.errors import ProfileError
    from keyguard.protocols.profile import load_profile_dir, load_profile_file

    n = 0
    for spec in paths:
        p = Path(spec)
        if not p.exists():
            raise ProfileError("no such file or directory", p)
        profiles = load_profile_dir(p) if p.is_dir() else load_profile_file(p)
        if p.is_dir() and not profiles:
            raise ProfileError("holds no .toml profile files", p)
        for prof in profiles:
            click.echo(f"ok  {prof.name:16s} {prof.source}")
            n += 1
    click.echo(f"{n} profile(s) valid")
    return 0


@profile.command("learn")
@click.argument("captures", nargs=-1, required=True, metavar="CAPTURE...")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the profile here (default: print it).")
@click.option("--name", default=None, help="Profile name (default: from the output file name).")
@click.option("--profiles", "profile_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True), help="Also load these profiles (their frames are "
              "known, so not learned from).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
def learn(captures: tuple[str, ...], output: str | None, name: str | None,
          profile_dirs: tuple[str, ...], overwrite: bool) -> int:
    """Learn a profile for an undescribed fob from CAPTURE files of several presses.

    Frames no profile explains are framed with estimated timing; bit positions that stay the
    same across presses become the identity, positions that change become the rolling code.
    The profile is checked by decoding the captures with it. Use it with
    `keyguard decode --profiles DIR`.
    """
    import re

    from keyguard.io import open_capture
    from keyguard.protocols.learn import learn as learn_profile
    from keyguard.protocols.registry import load_registry

    if name is None:
        stem = Path(output).stem if output else "learned"
        name = re.sub(r"[^a-z0-9_]", "_", stem.lower())
        if not name[:1].isalpha():
            name = "fob_" + name
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise click.BadParameter("use lower-case letters, digits and _", param_hint="--name")
    if output and Path(output).exists() and not overwrite:
        raise click.UsageError(f"{output} exists; use --overwrite")
    reg = load_registry(profile_dirs)
    if name in reg:
        raise click.BadParameter(f"{name!r} is already a profile name", param_hint="--name")
    caps = {}
    for spec in captures:
        cap = open_capture(spec)
        from keyguard.protocols.engine import capture_pulse_trains

        caps[spec] = list(capture_pulse_trains(cap))
    result = learn_profile(caps, name, reg)
    if output:
        Path(output).write_text(result.toml, encoding="utf-8")
    else:
        click.echo(result.toml)
    p = result.profile
    click.echo(f"learned {p.name!r}: {p.line_code} {p.timing.te_short_us:g}/"
               f"{p.timing.te_long_us:g} µs, {p.frame.bits_min}-{p.frame.bits_max} bits; "
               f"{result.frames} frames, {result.messages} distinct messages; "
               f"{result.fixed_bits} fixed (identity) and {result.rolling_bits} rolling (code) "
               f"bits; the profile decodes {result.decoded} frames of the captures"
               + (f"; written to {output}" if output else ""), err=True)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    return 0
