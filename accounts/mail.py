"""Outgoing mail. Every message is kept in the outbox; it goes out through SMTP when MAIL_SERVER is
set, and otherwise stays there (and in the log) so the demo works with no mail server."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app

from accounts.models import OutboxMessage
from common.extensions import db
from common.types import utcnow


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(recipient=recipient, subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        # The log names the outbox entry, never the address or the body (which may hold a link).
        current_app.logger.info("Mail #%s “%s” kept in the outbox (MAIL_SERVER is not set).", message.id, subject)
        return message
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = config["MAIL_SENDER"], recipient, subject
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)
    message.sent_at = utcnow()
    return message
