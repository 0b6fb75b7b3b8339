"""The ``keyguard`` command: a click group whose sub-commands live one per module in ``cli/``.

Errors the user can fix (bad file, bad option) print one line on standard error and exit 2;
an interrupt exits 130; nothing the user did wrong shows a traceback.
"""

from __future__ import annotations

import sys

import click

from keyguard import __version__
from keyguard.dsp.heap import hold_freed_memory
from keyguard.errors import InputError, KeyguardError, SourceError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="keyguard")
def keyguard() -> None:
    """Find keyless vehicle theft (jamming, replay, RollJam, RollBack, relay, clone, brute force)
    in key-fob radio captures and live SDR streams."""


def _register() -> None:
    # Imported here so that `keyguard --help` stays fast and one broken command cannot hide others.
    from cli import info, serve
    from cli import simulate
    from cli import decode, profile
    from cli import report
    from cli import enroll, train
    from cli import scan
    from cli import monitor
    from cli import evaluate

    keyguard.add_command(info.info)
    keyguard.add_command(serve.serve)
    keyguard.add_command(simulate.simulate)
    keyguard.add_command(decode.decode)
    keyguard.add_command(profile.profile)
    keyguard.add_command(report.report)
    keyguard.add_command(enroll.enroll)
    keyguard.add_command(train.train)
    keyguard.add_command(scan.scan)
    keyguard.add_command(monitor.monitor)
    keyguard.add_command(evaluate.evaluate)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit status."""
    # the front end allocates and frees arrays of megabytes per block and burst: keep freed
    # memory for the next one (a process-wide setting, so the command sets it, not the library)
    hold_freed_memory()
    try:
        rv = keyguard.main(args=argv, prog_name="keyguard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("keyguard: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("keyguard: interrupted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except (InputError, SourceError) as e:
        click.echo(f"keyguard: error: {e}", err=True)
        return 2
    except KeyguardError as e:
        click.echo(f"keyguard: error: {e}", err=True)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as e:
        if e.filename is None:
            raise
        # an output path the system refused (missing folder, no permission, a directory):
        # the user's to fix, so one line rather than a traceback
        name = e.filename[:-5] if str(e.filename).endswith(".part") else e.filename
        click.echo(f"keyguard: error: {name}: {e.strerror} (check the path and that its "
                   "folder exists and is writable)", err=True)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    return rv if isinstance(rv, int) else 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
