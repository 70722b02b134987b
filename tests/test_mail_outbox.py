"""Mail after commit: a message is written in the transaction of what it tells and sent after the commit. An
SMTP failure never undoes what the user did; the message waits in the outbox with its attempts counted.
The mail server is a small SMTP server on loopback that can be told to fail."""
from __future__ import annotations

import socketserver
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from accounts.mail import deliver, send_mail
from accounts.models import OutboxMessage, User
from common.extensions import db
from common.types import utcnow


class SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        server = self.server
        if server.failing:
            self.reply("421 kafaa.test Service not available")
            return
        self.reply("220 kafaa.test ESMTP")
        while True:
            line = self.rfile.readline().decode(errors="replace").strip()
            if not line:
                return
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 kafaa.test")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data)
                server.received.append(b"".join(lines).decode(errors="replace"))
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def smtp(app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SMTPHandler)
    server.daemon_threads = True
    server.failing, server.received = True, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.server_address[1], MAIL_USE_TLS=False, MAIL_TIMEOUT=5)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_smtp_failure_keeps_what_the_user_did_and_the_mail_queued(client, login, admin, smtp):
    login(admin)
    response = client.post("/admin/users", data={"email": "new.trainer@example.ma", "role": "trainer"})
    assert response.status_code == 302  # saved, although the mail server refused
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.email == "new.trainer@example.ma")) is not None
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.sent_at is None and message.attempts == 1 and message.last_error == "SMTPConnectError 421"
    assert message.next_attempt_at > utcnow() + timedelta(seconds=30)  # a retry is planned, not hammered
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "1 tentative échouée" in page

    # Not due yet: a sweep leaves it alone. Once due and the server back, it goes, once.
    assert deliver() == {"sent": 0, "failed": 0}
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    smtp.failing = False
    assert deliver() == {"sent": 1, "failed": 0}
    assert deliver() == {"sent": 0, "failed": 0}
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.sent_at is not None and message.attempts == 2 and message.next_attempt_at is None
    assert len(smtp.received) == 1 and "new.trainer@example.ma" in smtp.received[0]


def test_mail_leaves_only_after_the_commit(app, admin, smtp):
    smtp.failing = False
    send_mail("someone@example.ma", "Rolled back", "never sent")
    assert smtp.received == []  # not before the commit
    db.session.rollback()
    assert smtp.received == [] and db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    send_mail("someone@example.ma", "Committed", "sent once committed")
    db.session.commit()
    assert len(smtp.received) == 1 and "Subject: Committed" in smtp.received[0]
    # The next commit does not send it again.
    admin.locale = "ar"
    db.session.commit()
    assert len(smtp.received) == 1


def test_retries_back_off_then_stop(app, admin, smtp):
    from accounts import mail

    send_mail("someone@example.ma", "Never", "the server stays down")
    db.session.commit()
    delays = []
    for _ in range(mail.MAX_ATTEMPTS - 1):
        message = db.session.scalars(sa.select(OutboxMessage)).one()
        db.session.refresh(message)
        delays.append(message.next_attempt_at - utcnow())
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        deliver()
    db.session.expire_all()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.attempts == mail.MAX_ATTEMPTS and message.next_attempt_at is None and message.sent_at is None
    assert delays == sorted(delays)  # each wait at least as long as the one before


def test_send_mail_command_sends_what_is_due(app, admin, smtp):
    send_mail("someone@example.ma", "Later", "sent by the command")
    db.session.commit()
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    smtp.failing = False
    result = app.test_cli_runner().invoke(args=["users", "send-mail"])
    assert result.exit_code == 0 and "Sent 1" in result.output
    assert len(smtp.received) == 1
