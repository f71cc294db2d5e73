"""The ``hlskit`` click group, its error handling, and how a command gets its settings.

Errors a user can cause are HlskitError subclasses: printed as one line, exit code from the
error, never a traceback. Each area adds its commands from ``hlskit/cli/<area>.py``.
"""

from __future__ import annotations

import importlib
import json
import os
import sqlite3
import sys
from typing import Any, NoReturn

import click

from ..config import load_settings
from ..domain.errors import HlskitError, os_error_sentence
from ..domain.settings import Settings


class HlskitGroup(click.Group):
    """Exit codes: 0 done; 1 a job failed (JobError) or an unexpected disk error; 2 bad input,
    bad settings or a damaged store (InputError, ConfigError, a usage error); 3 cancelled;
    130 interrupted (Ctrl-C or SIGTERM).

    ``lazy`` names commands whose area module is imported only when one of them is asked for: the
    serving areas load Flask, Werkzeug and Jinja (a tenth of a second) that ``package`` and the
    other commands never use. Those areas are entry points like this one (nothing imports them),
    so loading them late cannot hide a cycle; tests/cli/test_lazy_areas.py keeps the map true."""

    lazy: dict[str, str] = {}  # command name → module that registers it (hlskit.cli.<area>)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            importlib.import_module(self.lazy[cmd_name]).register(self)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HlskitError as exc:
            _fail(exc.message, exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted; the run in progress was not published (`hlskit status` lists every run).", 130)
        except click.UsageError as exc:  # a bad flag value: one line, not click's usage block
            where = exc.ctx.command_path if exc.ctx else "hlskit"
            dashed = next((a for a in sys.argv[1:] if a.startswith("-") and os.path.exists(a)), None)
            if isinstance(exc, click.NoSuchOption) and dashed is not None:  # a file named like an option
                _fail(f"{exc.format_message().rstrip('.')}: to name the file {dashed}, write ./{dashed}.", 2)
            _fail(f"{exc.format_message().rstrip('.')}: see `{where} --help`.", 2)
        except sqlite3.DatabaseError as exc:  # last resort: a store damaged after it was opened
            _fail(
                f"the job or key store is damaged ({exc}): move jobs.db / keys.db in the hlskit home aside "
                "(hlskit starts new ones) or restore them from a backup.",
                2,
            )
        except BrokenPipeError:  # `hlskit config | head -1`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(1)
        except OSError as exc:  # last resort: the known paths turn these into their own sentences
            command = " ".join(filter(None, [ctx.command_path, ctx.invoked_subcommand]))
            _fail(os_error_sentence(exc, f"`{command}`"), 1)


def _fail(message: str, code: int) -> NoReturn:
    """One sentence on stderr; a command run with --json also prints {"error": ..., "exit_code": N} on
    stdout, so a script reading its JSON reads the failure there too."""
    if "--json" in sys.argv[1:]:
        click.echo(json.dumps({"error": message, "exit_code": code}))
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


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


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings for a command: defaults < config file < environment < the command's flags."""
    root = ctx.find_root()
    return load_settings((root.obj or {}).get("config_file"), **overrides)
