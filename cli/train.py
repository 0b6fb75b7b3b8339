"""``keyguard train``: retrain the burst classifier on simulated scenarios, reproducibly."""

from __future__ import annotations

import json

import click


def _seeds(text: str) -> list[int]:
    """``100-105`` or ``1,2,7`` or a mix (non-negative integers)."""
    out: list[int] = []
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            a, _, b = part.partition("-")
            out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    except ValueError:
        raise click.BadParameter(f"{text!r}: give seeds like 100-105 or 1,2,7") from None
    if not out:
        raise click.BadParameter("no seeds")
    return out


@click.command()
@click.option("-o", "--output", required=True, metavar="MODEL.skops",
              help="Where to write the model (skops, no pickle) with its model card.")
@click.option("--scenarios", default=None, metavar="NAMES",
              help="Comma-separated shipped scenario names or .toml files (default: every "
              "shipped scenario).")
@click.option("--seeds", default="100-111", show_default=True, metavar="SEEDS",
              help="Variation seeds to train on (ranges like 100-105 and lists like 1,2,7).")
@click.option("--eval-seeds", default="900-905", show_default=True, metavar="SEEDS",
              help="Held-out variation seeds the card's metrics are measured on.")
@click.option("--seed", default=0, show_default=True, help="The classifier's random seed.")
@click.option("--workers", default=1, show_default=True, help="Processes rendering scenarios.")
@click.option("--dataset", "dataset_path", metavar="FILE.npz",
              help="Also save the training bursts (features, labels, metadata) here.")
@click.option("--extra-seeds", "extra", multiple=True, metavar="NAMES:SEEDS",
              help="More training seeds for some scenarios only, e.g. "
              "benign_day,relay_af:112-147 (repeatable).")
def train(output: str, scenarios: str | None, seeds: str, eval_seeds: str, seed: int,
          workers: int, dataset_path: str | None, extra: tuple[str, ...] = ()) -> int:
    """Render varied simulator scenarios (random geometry, replayers, jammers, relays and
    receivers per seed), label every burst from the ground truth, train the burst classifier,
    and score it on held-out seeds. Same options, same model."""
    from keyguard.errors import InputError
    from keyguard.models.store import save_model
    from keyguard.models.training import classifier_metrics, evaluate, merge, model_card, \
        simulate, train_classifier
    from keyguard.sim.scenario import list_scenarios

    from pathlib import Path

    known = sorted(list_scenarios())
    names = known if scenarios is None else [s.strip() for s in scenarios.split(",") if s.strip()]
    bad = [n for n in names if n not in known and not (n.endswith(".toml") and Path(n).is_file())]
    if bad:
        raise InputError(f"unknown scenario(s) {', '.join(bad)}", None,
                         f"shipped scenarios: {', '.join(known)}")
    train_seeds, test_seeds = _seeds(seeds), _seeds(eval_seeds)
    extras: list[tuple[list[str], list[int]]] = []
    for spec in extra:
        what, sep, which = spec.rpartition(":")
        ex_names = [n.strip() for n in what.split(",") if n.strip()]
        if not sep or not ex_names or any(n not in known for n in ex_names):
            raise InputError(f"--extra-seeds {spec!r}: give shipped scenario names and seeds",
                             None, "e.g. benign_day,relay_af:112-147")
        extras.append((ex_names, _seeds(which)))
        if set(extras[-1][1]) & set(test_seeds):
            raise InputError("training and evaluation seeds overlap", None,
                             "held-out numbers need seeds never trained on")
    if set(train_seeds) & set(test_seeds):
        raise InputError("training and evaluation seeds overlap", None,
                         "held-out numbers need seeds never trained on")
    import os

    # checked before minutes of rendering, not after
    for target in [output] + ([dataset_path] if dataset_path else []):
        folder = Path(target).resolve().parent
        if not folder.is_dir():
            raise InputError("the folder to write into does not exist", target,
                             f"create {folder} first")
        if not os.access(folder, os.W_OK):
            raise InputError("the folder to write into is not writable", target,
                             "choose another path")

    def note(r):
        state = "failed: " + r.error if r.error else f"{len(r.dataset)} bursts"
        click.echo(f"  {r.scenario} seed {r.seed}: {state}", err=True)

    click.echo(f"rendering {len(names) * len(train_seeds)} training scenarios...", err=True)
    runs = simulate(names, train_seeds, workers, note)
    for ex_names, ex_seeds in extras:
        click.echo(f"rendering {len(ex_names) * len(ex_seeds)} extra training scenarios...",
                   err=True)
        runs += simulate(ex_names, ex_seeds, workers, note)
    ds = merge(runs)
    if len(ds) == 0:
        raise InputError("the training scenarios gave no bursts", None, "check the front end")
    if dataset_path:
        ds.save(dataset_path)
    model = train_classifier(ds, seed)
    click.echo(f"rendering {len(names) * len(test_seeds)} held-out scenarios...", err=True)
    held = simulate(names, test_seeds, workers, note)
    metrics = classifier_metrics(model, merge(held))
    metrics["detection"] = evaluate(held, {"burst": model}).to_dict()
    card = model_card(model, names, train_seeds, test_seeds, ds, metrics,
                      extra=[{"scenarios": n, "seeds": x} for n, x in extras])
    save_model(model, output, card)
    click.echo(json.dumps({"model": output, "bursts": len(ds),
                           "accuracy": metrics.get("accuracy"), "auc": metrics.get("auc")},
                          indent=1))
    return 0
