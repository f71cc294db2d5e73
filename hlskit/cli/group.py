"""The ``hlskit`` click group, its error handling, and how a command gets its settings.

Errors a user can cause are HlskitError subclasses: printed as one line, exit code from the
error, never a traceback. Each area adds its commands from ``hlskit/cli/<area>.py``.
"""

from __future__ import annotations

import sys

import click

from ..config import load_settings
from ..domain.errors import HlskitError
from ..domain.settings import Settings


class HlskitGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HlskitError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("error: interrupted; nothing was published.", err=True)
            sys.exit(130)


@click.group(cls=HlskitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (TOML). Default: $HLSKIT_CONFIG or ./hlskit.toml.",
)
@click.version_option(package_name="hlskit")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """hlskit: encrypted multi-definition HLS, its keys, and a player to check it.

    \b
    Example:
      hlskit sample samples/sample.mp4
      hlskit package samples/sample.mp4 --out out/ --key-url http://127.0.0.1:8000/keys
      hlskit serve out/ --port 8000
    """
    ctx.obj = {"config_file": config_file}


def settings_from(ctx: click.Context, **overrides) -> Settings:
    """Settings for a command: defaults < config file < environment < the command's flags."""
    root = ctx.find_root()
    return load_settings((root.obj or {}).get("config_file"), **overrides)
