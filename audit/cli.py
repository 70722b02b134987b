"""`flask --app app audit verify`"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from audit.operations import verify_chain

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Check the hash chain; exit non-zero naming each entry altered, removed or reordered."""
    problems = list(verify_chain())
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("Audit trail intact.")
