"""The check-in code as shown to a room: its URL, when it changes, its QR image. Shared by the projector
page and its JSON twin."""
from __future__ import annotations

import base64

from flask import current_app

from certificates.qr import qr_svg
from checkin import operations


def checkin_url(session, code: str) -> str:
    return f"{current_app.config['BASE_URL']}/checkin/{session.id}/{code}"


def qr_src(url: str) -> str:
    """The QR code as a data: URI for an <img>: no markup from code reaches the page."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode()).decode()


def shown_code(session, *, with_qr: bool = False) -> dict:
    """The code on screen now, its URL and when it changes (and the QR image for the projector)."""
    code, expires_at = operations.current(session)
    shown = {"code": code, "url": checkin_url(session, code), "expires_at": expires_at.isoformat()}
    if with_qr:
        shown["qr_src"] = qr_src(shown["url"])
    return shown

