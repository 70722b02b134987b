"""`flask --app app certificates ...` and `flask --app app keys ...`"""
from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from certificates import keys
from certificates.bulk import issue_for_cohort
from common.extensions import db
from skills.models import Cohort

certificates_cli = AppGroup("certificates", help="Issue certificates.")
keys_cli = AppGroup("keys", help="Manage the issuer's signing keys.")


@certificates_cli.command("issue")
@click.option("--cohort", "cohort_code", required=True, help="Cohort code: issue to its eligible trainees.")
def issue(cohort_code: str) -> None:
    """Issue certificates to every eligible trainee of a cohort. Safe to run again."""
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.code == cohort_code))
    if cohort is None:
        raise click.ClickException(f"No cohort {cohort_code}.")
    with click.progressbar(length=1, label=f"Cohort {cohort.code}", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)
        summary = issue_for_cohort(None, cohort, progress)
    click.echo(f"Issued {summary['issued']}, already held {summary['already_held']}, "
               f"skipped because revoked {summary['revoked']}, not eligible {summary['not_eligible']}, "
               f"failed {summary['failed']}.")
    for person in summary["people"]:
        if person["outcome"] in ("revoked", "failed", "not_eligible"):
            what = {"revoked": "revoked", "failed": "FAILED", "not_eligible": "not eligible"}[person["outcome"]]
            click.echo(f"  trainee {person['trainee_id']}: {what}: {person['detail']}")
    if summary["failed"]:
        raise SystemExit(1)


@certificates_cli.command("keep-revoked-copies")
def keep_revoked_copies() -> None:
    """Keep the REVOKED copy of certificates revoked before copies were kept, so /verify recognises it."""
    from certificates.operations import keep_missing_revoked_copies

    count = keep_missing_revoked_copies()
    db.session.commit()
    click.echo(f"Kept the REVOKED copy of {count} certificate(s).")


@keys_cli.command("rotate")
def rotate() -> None:
    """Start signing with a new Ed25519 key; old public keys stay published for verification."""
    store = keys.keystore()
    kid = store.rotate()
    click.echo(f"New signing key {kid}. Published keys: {', '.join(k['kid'] for k in store.jwks()['keys'])}")
