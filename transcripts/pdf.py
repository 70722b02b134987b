"""Transcript PDF: A4 portrait, French and Arabic on the page like the certificate, drawn from the record
frozen at issue (transcripts.rules.record) with the certificate's fonts and QR code; signed by the caller."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from certificates import fonts
from certificates.qr import QUIET_ZONE, draw_qr, make_qr
from common.printed_dates import date_ar, date_fr

PAGE_W, PAGE_H = A4
MARGIN = 42.0
QR_SIZE = 28 / 25.4 * 72  # 2.8 cm
FOOTER = 150.0  # room kept at the bottom of every page for the dates, the QR code, serial and code
ROW = 15.0
GREEN = HexColor("#0B6E4F")
GREY = HexColor("#555555")

STATUS_FR = {"valid": "valide", "expired": "expiré", "revoked": "révoqué", "superseded": "remplacé"}
STATUS_AR = {"valid": "صالحة", "expired": "منتهية الصلاحية", "revoked": "ملغاة", "superseded": "مستبدلة"}


@dataclass(frozen=True)
class Issue:
    """What the page prints besides the record: where and how to check it."""

    serial: str
    issued_on: date
    verify_url: str
    verification_code: str
    domain: str


def _hours_fr(text: str) -> str:
    return text.replace(".", ",")  # French writes a decimal comma; the record keeps exact decimal text


def _day(iso: str | None, fmt) -> str:
    return fmt(date.fromisoformat(iso)) if iso else "—"


class _Pages:
    """Rows flow down the page and onto a new one when they reach the footer; every page gets the footer."""

    def __init__(self, canvas: Canvas, record: dict[str, Any], issue: Issue) -> None:
        self.c, self.record, self.issue = canvas, record, issue
        self.number = 1
        self.y = PAGE_H - MARGIN

    def line(self, text: str, x: float, size: float, width: float, **kw: Any) -> None:
        fonts.draw_fitted(self.c, text, x, self.y, size, width, **kw)

    def need(self, height: float) -> None:
        if self.y - height < FOOTER:
            self.footer()
            self.c.showPage()
            self.number += 1
            self.y = PAGE_H - MARGIN
            self._colour(GREY)
            holder = self.record["holder"]
            self.line(f"{self.issue.serial} · {holder['name']} · page {self.number}", MARGIN, 9, PAGE_W - 2 * MARGIN)
            self.y -= 24

    def _colour(self, colour) -> None:
        self.c.setFillColor(colour)

    def footer(self) -> None:
        c, issue = self.c, self.issue
        left, right = MARGIN, PAGE_W - MARGIN
        qr_x, qr_y = right - QR_SIZE, 52.0
        text_w = qr_x - left - 40
        c.setStrokeColor(GREEN)
        c.setLineWidth(0.5)
        c.line(left, FOOTER - 12, right, FOOTER - 12)
        c.setFillColorRGB(0, 0, 0)
        fonts.draw_fitted(c, f"Relevé délivré le {date_fr(issue.issued_on)} · n° {issue.serial}", left, 112, 9.5, text_w)
        fonts.draw_fitted(c, f"كشف سُلّم بتاريخ {date_ar(issue.issued_on)}", left + text_w, 98, 9.5, text_w, align="right")
        c.setFillColor(GREY)
        fonts.draw_fitted(c, "Ce relevé montre le parcours à sa date de délivrance. Vérifier sur "
                          f"{issue.domain} (QR code ou n° et code).", left, 80, 8, text_w)
        fonts.draw_fitted(c, "يبيّن هذا الكشف المسار في تاريخ تسليمه. تحقق بواسطة رمز QR.", left + text_w, 68, 8,
                          text_w, align="right")
        fonts.draw_fitted(c, "Document signé électroniquement : toute modification invalide la signature.",
                          left, 54, 8, text_w)
        fonts.draw_fitted(c, "وثيقة موقعة إلكترونيا: كل تعديل يبطل التوقيع.", left + text_w, 42, 8, text_w, align="right")
        qr = make_qr(issue.verify_url)
        draw_qr(c, qr, qr_x, qr_y, QR_SIZE)
        quiet = QUIET_ZONE * QR_SIZE / len(qr.matrix)
        centre = qr_x + QR_SIZE / 2
        c.setFillColorRGB(0, 0, 0)
        fonts.draw_fitted(c, issue.serial, centre, qr_y - quiet - 6, 8, QR_SIZE + 30, align="center")
        fonts.draw_fitted(c, issue.verification_code, centre, qr_y - quiet - 18, 10, QR_SIZE + 30, align="center",
                          bold=True)


def render_transcript(record: dict[str, Any], issue: Issue) -> bytes:
    """Draw the transcript and return unsigned PDF bytes (certificates.keys.pdf_signer().sign them)."""
    fonts.register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, pageCompression=1, lang="fr-MA", initialFontName=fonts.LATIN)
    holder = record["holder"]
    c.setTitle(f"Relevé de formation {issue.serial} — {holder['name']}")
    c.setViewerPreference("DisplayDocTitle", "true")
    c.setAuthor(record["issuer"].get("fr", ""))
    pages = _Pages(c, record, issue)
    left, right, mid = MARGIN, PAGE_W - MARGIN, PAGE_W / 2
    full, half = right - left, mid - MARGIN - 10

    c.setFillColor(GREY)
    for key in ("fr", "ar"):
        if record["issuer"].get(key):
            pages.line(record["issuer"][key], mid, 10, full, align="center")
            pages.y -= 14
    pages.y -= 18
    c.setFillColor(GREEN)
    pages.line("Relevé de formation", left, 22, half, bold=True)
    pages.line("كشف التكوين", right, 22, half, align="right")
    pages.y -= 34
    c.setFillColorRGB(0, 0, 0)
    pages.line(holder["name"], mid, 20, full, align="center", bold=True)
    pages.y -= 26
    pages.line(holder["name_ar"], mid, 18, full, align="center")
    if holder.get("name_tfng"):
        pages.y -= 22
        pages.line(holder["name_tfng"], mid, 14, full, align="center")
    pages.y -= 34

    # Modules: French title | hours | date | how | Arabic title.
    col_fr, col_h, col_d, col_how, col_ar = left, left + 170, left + 215, left + 290, right
    c.setFillColor(GREEN)
    pages.line("Modules validés", left, 12, half, bold=True)
    pages.line("الوحدات المكتسبة", right, 12, half, align="right")
    pages.y -= 18
    pages.line("Module", col_fr, 8, 160, bold=True)
    pages.line("Heures", col_h + 20, 8, 40, align="center", bold=True)
    pages.line("Date", col_d, 8, 70, bold=True)
    pages.line("Acquis par", col_how, 8, 110, bold=True)
    pages.line("الوحدة", col_ar, 8, 100, align="right", bold=True)
    pages.y -= 10
    pages.line("الساعات", col_h + 20, 8, 40, align="center")
    pages.line("التاريخ", col_d, 8, 70)
    pages.line("طريقة الاكتساب", col_how, 8, 110)
    c.setStrokeColor(GREEN)
    c.setLineWidth(0.5)
    c.line(left, pages.y - 4, right, pages.y - 4)
    c.setFillColorRGB(0, 0, 0)
    for m in record["modules"]:
        pages.y -= ROW
        pages.need(ROW)
        how = f"Cohorte {m['cohort']} · الفوج" if m["how"] == "cohort" else "Reconnaissance · اعتراف"
        pages.line(f"{m['code']} — {m['title']['fr']}", col_fr, 8.5, 165)
        pages.line(_hours_fr(m["hours"]), col_h + 20, 8.5, 40, align="center")
        pages.line(date.fromisoformat(m["passed_on"]).strftime("%d/%m/%Y"), col_d, 8.5, 70)
        pages.line(how, col_how, 8.5, 115)
        pages.line(m["title"]["ar"], col_ar, 8.5, 100, align="right")
    if not record["modules"]:
        pages.y -= ROW
        pages.line("Aucun module validé à ce jour.", left, 9, half)
        pages.line("لا توجد وحدة مكتسبة إلى حد الآن.", right, 9, half, align="right")
    pages.y -= ROW + 4
    pages.need(ROW)
    total = record["total_hours"]
    pages.line(f"Total : {_hours_fr(total)} h", left, 10, half, bold=True)
    pages.line(f"المجموع: {total} ساعة", right, 10, half, align="right")

    # Certificates: serial | track | status on the day of issue | dates | Arabic title.
    pages.y -= 30
    pages.need(3 * ROW)
    c.setFillColor(GREEN)
    pages.line("Certificats (statut à la date du relevé)", left, 12, half + 40, bold=True)
    pages.line("الشهادات — وضعيتها في تاريخ الكشف", right, 12, half - 40, align="right")
    pages.y -= 4
    c.setFillColorRGB(0, 0, 0)
    for cert in record["certificates"]:
        pages.y -= ROW
        pages.need(2 * ROW)
        dates = f"délivré le {_day(cert['issued_on'], date_fr)}"
        if cert["expires_on"]:
            dates += f", jusqu'au {_day(cert['expires_on'], date_fr)}"
        pages.line(f"{cert['serial']} · {cert['title']['fr']} · {STATUS_FR[cert['status']]}", left, 8.5, half + 40)
        pages.line(f"{cert['title']['ar']} · {STATUS_AR[cert['status']]}", right, 8.5, half - 50, align="right")
        pages.y -= 11
        c.setFillColor(GREY)
        pages.line(dates, left, 7.5, full)
        c.setFillColorRGB(0, 0, 0)
    if not record["certificates"]:
        pages.y -= ROW
        pages.line("Aucun certificat.", left, 9, half)
        pages.line("لا توجد شهادة.", right, 9, half, align="right")

    pages.footer()
    c.showPage()
    c.save()
    return buf.getvalue()
