"""``keyguard simulate``: render a scenario to a labelled capture (IQ + SigMF truth + truth.json)."""

from __future__ import annotations

import click

#: Output formats (the same as keyguard.sim.output.OUTPUT_FORMATS; spelled out here so that
#: `keyguard --help` does not import the simulator).
FORMATS = ("cu8", "cs8", "cs16", "cf32", "sigmf")
#: Renders longer than this many samples show a progress bar on standard error.
PROGRESS_SAMPLES = 20_000_000


@click.command()
@click.argument("scenario", required=False)
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Directory to write the capture, its .sigmf-meta and truth.json into.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the scenario's).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="cu8", show_default=True,
              help="Sample format of the capture (sigmf: .sigmf-data + .sigmf-meta, 8-bit).")
@click.option("--list", "list_", is_flag=True, help="List the named scenarios shipped with keyguard.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def simulate(scenario: str | None, out_dir: str | None, seed: int | None, fmt: str, list_: bool,
             overwrite: bool, quiet: bool) -> int:
    """Render SCENARIO (a .toml file or a named scenario) as an RTL-SDR capture with ground truth.

    Writes NAME_<MHz>M_<ksps>k.<fmt> (rtl_433 naming), a SigMF .sigmf-meta carrying every
    ground-truth event as an annotation, and truth.json. The same scenario and seed always
    give the same bytes.
    """
    from keyguard.sim.output import write_rendering
    from keyguard.sim.scenario import list_scenarios, load_scenario

    if list_:
        for name, desc in list_scenarios().items():
            click.echo(f"{name:16s} {desc}")
        return 0
    if scenario is None:
        raise click.UsageError("give a SCENARIO (.toml or a name from --list)")
    if out_dir is None:
        raise click.UsageError("give an output directory with -o DIR")
    sc = load_scenario(scenario)
    rendering = sc.plan(seed=seed)
    try:
        out = write_rendering(rendering, out_dir, fmt, overwrite=overwrite,
                              progress=not quiet and rendering.num_samples > PROGRESS_SAMPLES)
    except FileExistsError as e:
        raise click.UsageError(f"{e}; use --overwrite") from None
    kinds: dict[str, int] = {}
    for e in rendering.truth:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    click.echo(f"{out.data}  ({out.num_samples} samples, {sc.duration_s:g} s, seed {rendering.seed})")
    click.echo(f"{out.meta}")
    click.echo(f"{out.truth}  events: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return 0
