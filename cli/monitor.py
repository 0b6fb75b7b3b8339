"""``keyguard monitor``: the scan pipeline on a live stream, alerts to sinks, evidence clips."""

from __future__ import annotations

import signal

import click

from cli.info import HZ
from cli.options import decode_options, detect_options


@click.command()
@click.option("--device", metavar="N|SERIAL", help="RTL-SDR dongle by index or serial.")
@click.option("--rtl-tcp", "rtl_tcp", metavar="HOST:PORT", help="An rtl_tcp server.")
@click.option("--replay", metavar="FILE", help="A capture file, as if it were live.")
@click.option("--freq", type=HZ, help="Centre frequency in Hz (default 433.92M; a replay uses "
              "its own).")
@click.option("--rate", type=HZ, help="Sample rate in Hz, up to 2.4M (default 250k; a replay "
              "uses its own).")
@click.option("--gain", default="auto", show_default=True, help="Tuner gain in dB, or auto.")
@click.option("--ppm", type=int, default=0, show_default=True, help="Tuner frequency correction.")
@click.option("--bias-tee", is_flag=True, help="Power an LNA through the antenna port.")
@click.option("--realtime", is_flag=True, help="With --replay: pace the file at its sample rate.")
@click.option("--sink", "sinks", multiple=True, metavar="SPEC",
              help="Where records go (repeatable): stdout[:table], jsonl:PATH, "
              "mqtt[s]://[user:pass@]host:port/prefix, webhook:URL. Default: stdout:table.")
@click.option("--evidence-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write a SigMF clip of the IQ around every alert (±2 s) here.")
@click.option("--status-interval", type=float, default=5.0, show_default=True,
              help="Seconds between status lines on standard error (0: none).")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Threads sharing one block's work (a jammer's regions and bursts); alerts "
                   "come sooner after a jammer with several images, the same either way.")
@decode_options
@detect_options
def monitor(device: str | None, rtl_tcp: str | None, replay: str | None, freq: float | None,
            rate: float | None, gain: str, ppm: int, bias_tee: bool, realtime: bool,
            sinks: tuple[str, ...], evidence_dir: str | None, status_interval: float,
            workers: int, protocols: tuple[str, ...], profile_dirs: tuple[str, ...], keys_file: str | None,
            state_path: str | None, model_path: str | None, receiver: str | None,
            min_severity: str) -> int:
    """Watch a live source (RTL-SDR, rtl_tcp or a replayed file) and raise alerts as they
    happen, with the same decoding and detection as `keyguard scan`.

    Lost samples (USB overruns, rtl_tcp stalls) are counted and reported, never filled in.
    SIGINT or SIGTERM flushes the sinks and the state file, then exits with status 130.
    Exit status otherwise: 0 no alert at or above --min-severity, 1 at least one, 2 bad input
    or no such device.
    """
    from keyguard.alerts.dispatch import SinkSet
    from keyguard.alerts.spec import parse_sink
    from keyguard.events import severity_rank
    from keyguard.monitor import Monitor
    from keyguard.pipeline import ScanOptions, Scanner
    from keyguard.sdr.open import open_source

    gain_value: float | str = gain if gain == "auto" else float(gain)
    source = open_source(device=device, rtl_tcp=rtl_tcp, replay=replay, center_freq=freq,
                         sample_rate=rate, gain=gain_value, ppm=ppm, bias_tee=bias_tee,
                         realtime=realtime, on_event=lambda line: click.echo(
                             f"keyguard monitor: {line}", err=True))
    scanner = Scanner(ScanOptions(profile_dirs=profile_dirs, protocols=protocols,
                                  keys_file=keys_file, state_path=state_path,
                                  model_path=model_path, receiver=receiver,
                                  learn_unknown=False, workers=workers))
    floor = severity_rank(min_severity)
    sink_set = SinkSet([parse_sink(s) for s in (sinks or ("stdout:table",))])
    evidence = None
    if evidence_dir:
        from keyguard.alerts.evidence import EvidenceRecorder

        evidence = EvidenceRecorder(evidence_dir, source.sample_rate,
                                    center_freq=source.center_freq, hw=source.hw,
                                    source=source.uri, ring_s=20.0, store="cu8",
                                    on_error=lambda line: click.echo(
                                        f"keyguard monitor: {line}", err=True))
    mon = Monitor(source, scanner, sink_set, evidence=evidence,
                  on_status=(lambda st: click.echo(st.line(), err=True))
                  if status_interval > 0 else None,
                  status_interval_s=status_interval or 1e9, min_severity=min_severity)

    def _stop(signum, frame):
        click.echo(f"keyguard monitor: {signal.Signals(signum).name}: stopping, flushing sinks",
                   err=True)
        mon.stop()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        mon.run()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if not sink_set.close():
            click.echo("keyguard monitor: some records could not be delivered (see above)",
                       err=True)
    if mon.interrupted:
        return 130
    return 1 if scanner.max_severity_rank >= floor else 0
