"""`flask --app app report ...`"""
from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from common.errors import DomainError
from common.extensions import db
from governance import operations
from governance.loaders import parse_quarter
from governance.reporting import build_report

report_cli = AppGroup("report", help="Quarterly follow-up for the governance cell.")


def _quarter(text: str):
    try:
        return parse_quarter(text)
    except DomainError as error:
        raise click.BadParameter(" ".join(str(m) for ms in error.fields.values() for m in ms))


@report_cli.command("quarterly")
@click.argument("quarter")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder to write into.")
def quarterly(quarter: str, out_dir: str) -> None:
    """Write the quarter's report (PDF in French and Arabic, XLSX workbook) into OUT, e.g. 2026-Q4."""
    parsed = _quarter(quarter)
    with click.progressbar(length=3, label=f"Report {parsed}") as bar:
        paths = build_report(parsed, Path(out_dir), lambda done, total: bar.update(done - bar.pos))
    for path in paths:
        click.echo(str(path))


@report_cli.command("close")
@click.argument("quarter")
def close(quarter: str) -> None:
    """Close a finished quarter: freeze its figures."""
    try:
        snapshot = operations.close_quarter(None, _quarter(quarter))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message))
    db.session.commit()
    click.echo(f"Quarter {snapshot.quarter} closed: {snapshot.figures['trained']} people trained.")


@report_cli.command("rebuild-periods")
def rebuild_periods() -> None:
    """Rebuild trained_periods (what the figures read) from the certificates, e.g. after SQL by hand."""
    from governance import trained
    from governance.models import TrainedPeriod

    trained.rebuild(db.session.connection())
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(TrainedPeriod))
    click.echo(f"trained_periods rebuilt: {count} periods.")
