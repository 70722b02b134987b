"""Outgoing mail, sent after the commit.

`send_mail` only writes the message to the outbox, in the transaction of what it tells: if that transaction
rolls back, no mail leaves; if it commits, the mail goes out afterwards (an RQ job when REDIS_URL is set,
otherwise right after the commit, in the same process). An SMTP failure never undoes what the user did: the
message stays in the outbox with its attempts counted and the time of the next try (`flask users send-mail`
retries what is due, and every later delivery also picks up what is due). With no MAIL_SERVER the message
stays in the outbox (and in the log) so the demo works with no mail server.
"""
from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from contextlib import contextmanager
from functools import partial

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from accounts.models import OutboxMessage
from common.database import after_commit
from common.extensions import db
from common.types import utcnow

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 60  # then doubled at each attempt, up to MAX_RETRY_SECONDS
MAX_RETRY_SECONDS = 6 * 3600
LEASE_SECONDS = 300  # a message being sent is not picked up by another sender during this time
DUE_BATCH = 20


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Put a mail in the outbox; it is sent once the current transaction commits."""
    sending = bool(current_app.config.get("MAIL_SERVER"))
    message = OutboxMessage(recipient=recipient, subject=subject, body=body,
                            next_attempt_at=utcnow() if sending else None)
    db.session.add(message)
    db.session.flush()
    batch = db.session().info.get(BATCH)
    if sending and batch is not None:
        batch.append(message.id)
    elif sending:
        after_commit(partial(hand_over, [message.id]))
    else:
        # The log names the outbox entry, never the address or the body (which may hold a link).
        current_app.logger.info("Mail #%s “%s” kept in the outbox (MAIL_SERVER is not set).", message.id, subject)
    return message


BATCH = "kafaa.mail_batch"


@contextmanager
def handed_over_at_the_end():
    """Mail written inside is handed over once, when the block ends, rather than after each commit: a bulk
    run commits once per person and would otherwise wait on the mail server (or Redis) for every one. What
    was committed is already due in the outbox, so an interrupted run loses nothing: the next delivery or
    `flask users send-mail` sends it. Ids of rows rolled back meanwhile are handed over too, and find nothing."""
    session = db.session()
    if BATCH in session.info:  # nested: the outer block hands over
        yield
        return
    session.info[BATCH] = ids = []
    try:
        yield
    finally:
        session.info.pop(BATCH, None)
        if ids:
            hand_over(ids)


def hand_over(ids: list[int]) -> None:
    """Send these messages (and any other due) now, or through the RQ worker when Redis is set."""
    if not has_app_context():
        return
    config = current_app.config
    if config.get("REDIS_URL") and not config.get("JOBS_IN_PROCESS"):
        try:
            from redis import Redis
            from rq import Queue

            # Named, not imported: the worker process builds its own app (worker.py, at the top floor).
            Queue("kafaa", connection=Redis.from_url(config["REDIS_URL"])).enqueue("worker.deliver_mail", ids)
            return
        except Exception:  # Redis down: send from here rather than wait for the next sweep
            current_app.logger.warning("Could not queue mail %s on Redis; sending it now.", ids)
    deliver(ids)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def deliver(ids: list[int] | None = None) -> dict[str, int]:
    """Try to send the given messages and every other one that is due. Runs in its own session, outside the
    caller's transaction (which has committed already). Returns how many were sent and how many failed."""
    outcome = {"sent": 0, "failed": 0}
    if not current_app.config.get("MAIL_SERVER"):
        return outcome
    with Session(db.engine) as session:
        due = session.scalars(sa.select(OutboxMessage.id).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= utcnow())
            .order_by(OutboxMessage.next_attempt_at).limit(DUE_BATCH)).all()
        for message_id in dict.fromkeys([*(ids or []), *due]):
            sent = _deliver_one(session, message_id)
            if sent is not None:
                outcome["sent" if sent else "failed"] += 1
    return outcome


def _deliver_one(session: Session, message_id: int) -> bool | None:
    """Claim the message (one atomic update: two senders never both get it), send it, record the outcome.
    None when it was not ours to send (already sent, not due, or claimed by another sender)."""
    now = utcnow()
    claimed = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    if not claimed:
        return None
    message = session.get(OutboxMessage, message_id)
    try:
        _smtp_send(message)
    except (OSError, smtplib.SMTPException) as error:
        code = getattr(error, "smtp_code", None)
        # The class and the SMTP code only: an SMTP error's text may repeat the recipient's address.
        message.last_error = f"{type(error).__name__}{f' {code}' if code else ''}"[:300]
        message.next_attempt_at = (utcnow() + retry_delay(message.attempts)
                                   if message.attempts < MAX_ATTEMPTS else None)
        session.commit()
        current_app.logger.warning("Mail #%s not sent (attempt %s, %s); %s.", message.id, message.attempts,
                                   message.last_error,
                                   "will retry" if message.next_attempt_at else "giving up")
        return False
    message.sent_at, message.next_attempt_at, message.last_error = utcnow(), None, None
    session.commit()
    return True


def _smtp_send(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = config["MAIL_SENDER"], message.recipient, message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config.get("MAIL_TIMEOUT", 15)) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)
