"""`flask --app app backup PATH`, `flask --app app restore PATH` and `flask --app app purge`."""
from __future__ import annotations

from pathlib import Path

import click
from flask_babel import gettext as _, ngettext

from common import clock
from common.errors import DomainError
from common.extensions import db
from maintenance import backup as backups, retention


def _refused(error: DomainError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(str(error.message))


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
def backup_command(path: Path) -> None:
    """Back up the database, the signing keys and a manifest of checksums into the new folder PATH."""
    try:
        manifest = backups.create_backup(path)
    except DomainError as error:
        raise _refused(error)
    rows = sum(t["rows"] for t in manifest["tables"].values())
    click.echo(_("Backup written to %(path)s: %(tables)d tables, %(rows)d rows, %(keys)d key files.",
                 path=str(path), tables=len(manifest["tables"]), rows=rows, keys=len(backups.key_files(manifest))))
    click.echo(_("It holds personal data and the private signing keys: keep it as safe as the server."))


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database (and restore the signing keys) with the backup in PATH, then check every table."""
    try:
        manifest = backups.check_backup(path)
    except DomainError as error:
        raise _refused(error)
    if not yes:
        click.confirm(_("Replace every row of the database with the backup of %(date)s?",
                        date=manifest["created_at"]), abort=True)
    try:
        result = backups.restore_backup(path, manifest)
    except DomainError as error:
        raise _refused(error)
    db.session.commit()
    for name, expected in sorted(manifest["tables"].items()):
        found = result.tables.get(name, {"rows": 0})
        mark = _("differs") if name in result.differing else _("ok")
        click.echo(f"{name:32} {found['rows']:>9}  {mark}")
    if result.differing:
        raise click.ClickException(ngettext("%(num)d table differs from the backup: %(tables)s.",
                                            "%(num)d tables differ from the backup: %(tables)s.",
                                            len(result.differing), tables=", ".join(result.differing)))
    click.echo(ngettext("Restored: every table matches its checksum (%(num)d table).",
                        "Restored: every table matches its checksum (%(num)d tables).", len(result.tables)))
    if result.revision != backups.code_revision():
        click.echo(_("The backup's schema is older than this code's: run `flask --app app db upgrade`."))


def _kind_labels() -> dict[str, str]:
    return {"outbox": _("Outbox mails to delete"), "api_tokens": _("Expired API tokens to delete"),
            "people": _("People whose personal data is to be deleted (anonymised)"),
            "files": _("Files past their retention period (ZIPs, reports, uploads) to delete")}


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say how much would go, per kind.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge_command(dry_run: bool, yes: bool) -> None:
    """Delete the personal data past its retention period (RETENTION_* settings); anonymous statistics stay."""
    now = clock.now()
    counts = retention.plan(now)
    for kind, label in _kind_labels().items():
        click.echo(f"{label}: {counts[kind]}")
    if dry_run:
        click.echo(_("Dry run: nothing was deleted."))
        return
    if not any(counts.values()):
        click.echo(_("Nothing is past its retention period."))
        return
    if not yes:
        click.confirm(_("Delete this data for good?"), abort=True)
    with click.progressbar(length=max(counts["people"], 1), label=_("People"), show_pos=True) as bar:
        done = retention.purge(now, lambda done, total: bar.update(done - bar.pos))
    db.session.commit()
    click.echo(_("Purged: %(outbox)d outbox mails, %(api_tokens)d API tokens, %(people)d people anonymised, "
                 "%(files)d files deleted.", **done))
