"""`flask --app app users ...`"""
from __future__ import annotations

import click
from flask.cli import AppGroup

from accounts import operations
from accounts.mail import deliver
from accounts.roles import ROLES
from common.errors import DomainError
from common.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


def fail(error: DomainError) -> None:
    details = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in error.fields.items())
    raise click.ClickException(details or str(error.message))


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
@click.option("--password", help="Set a password now; without it, an invitation link is printed and mailed.")
@click.option("--trainee-id", type=int, help="Link a trainee account to its trainee record.")
def create(email: str, role: str, password: str | None, trainee_id: int | None) -> None:
    """Create an account."""
    try:
        user = operations.create_user(None, email, role, password=password, trainee_id=trainee_id)
        link = None if password else operations.invite(None, user)
    except DomainError as error:
        db.session.rollback()
        fail(error)
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role}).")
    if link:
        click.echo(f"Invitation link: {link}")


def _user(email: str):
    user = operations.user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with the address {email!r}.")
    return user


@users_cli.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions and API tokens end."""
    user = _user(email)
    operations.disable_user(None, user)
    db.session.commit()
    click.echo(f"Disabled {user.email}: its sessions and API tokens have ended.")


@users_cli.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable an account again (it signs in anew: old sessions and tokens stay ended)."""
    user = _user(email)
    operations.enable_user(None, user)
    db.session.commit()
    click.echo(f"Enabled {user.email}.")


@users_cli.command("send-mail")
def send_mail() -> None:
    """Send the outbox's mail that is due (new, or waiting for a retry). Run it from cron, say every 5 minutes."""
    outcome = deliver()
    click.echo(f"Sent {outcome['sent']}, failed {outcome['failed']} (failed mail is retried later).")
