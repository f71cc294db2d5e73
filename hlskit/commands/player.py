"""CLI commands for this area; cli.py calls register(main)."""
import click


def register(main: click.Group) -> None:
    pass
