"""Certificates a second: a bare reportlab page vs render_certificate vs render + PAdES signature.

Run as `python bench/bench_pdf.py [--rounds 5 --seconds 2]` from the project root. The variants run
side by side in rounds (a, b, c, a, b, c, ...) in one process, because this machine's speed drifts;
ratios are taken within each round and the median is reported. Figures, not a pass/fail test.

To add a step (say, the database insert), call `run()` with your own variants:
    variants = default_variants(workdir); variants["d: issue + db"] = my_fn; report(run(variants, ...))
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import segno  # noqa: E402
from reportlab.lib.pagesizes import A4, landscape  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from certificates import fonts, wording  # noqa: E402
from certificates.pdf import CertificateContent, PdfSigner, render_certificate  # noqa: E402
from certificates.qr import ERROR, draw_qr, qr_segments  # noqa: E402
from common.printed_dates import date_ar, date_fr, date_zgh  # noqa: E402
from certificates.signing import KeyStore, make_token, verification_code, verify_url  # noqa: E402

Variant = Callable[[CertificateContent], bytes]
TARGETS = {"b/a": 0.8, "c/a": 0.4}

# Every certificate gets a different name, as in real use: nothing is served from a shaping cache.
_FIRST = [("Fatima-Zahra", "فاطمة الزهراء", "ⴼⴰⵟⵉⵎⴰ"), ("Youssef", "يوسف", None),
          ("Salah-Eddine", "صلاح الدين", "ⵙⵍⴰⵃ"), ("Zoé", "زوي", None), ("Amine", "أمين", "ⴰⵎⵉⵏ"),
          ("Khadija", "خديجة", None)]
_LAST = [("El Amrani", "العمراني", "ⵍⵄⵎⵔⴰⵏⵉ"), ("Benali", "بنعلي", None), ("Alaoui", "العلوي", "ⵄⴰⵍⴰⵡⵉ"),
         ("Müller-Ñúñez", "مولر", None), ("Ouazzani", "الوزاني", None), ("Tazi", "التازي", "ⵜⴰⵣⵉ"),
         ("Berrada", "برادة", None), ("Lahlou", "لحلو", None)]


_MIDDLE = [("", ""), ("Ali ", "علي "), ("Idriss ", "إدريس "), ("Nour ", "نور ")]


def _holder(i: int) -> tuple[str, str, str | None]:
    (f, f_ar, f_t), (l, l_ar, l_t) = _FIRST[i % len(_FIRST)], _LAST[(i // len(_FIRST)) % len(_LAST)]
    m, m_ar = _MIDDLE[(i // (len(_FIRST) * len(_LAST))) % len(_MIDDLE)]
    return f"{f} {m}{l}", f"{f_ar} {m_ar}{l_ar}", f"{f_t} {l_t}" if f_t and l_t else None


def sample_contents(keys_dir: Path, n: int = 192) -> list[CertificateContent]:
    """Distinct certificates (distinct tokens, so distinct QR codes), as the app would make them."""
    store = KeyStore(keys_dir)
    store.ensure()
    out = []
    for i in range(n):
        holder, holder_ar, holder_tfng = _holder(i)
        token, claims = make_token(
            store, serial=f"KF-2026-{i:06d}", holder=holder, holder_ar=holder_ar,
            holder_tfng=holder_tfng, track="IA-DATA-01", issued_on=date(2026, 11, 26),
            expires_on=date(2029, 11, 26),
        )
        out.append(CertificateContent(
            serial=claims.serial, holder=holder, holder_ar=holder_ar, holder_tfng=holder_tfng,
            track_title_fr="Science des données et apprentissage automatique",
            track_title_ar="علم البيانات والتعلم الآلي",
            modules=[
                ("Python pour la science des données", "بايثون لعلم البيانات", 40),
                ("Statistiques appliquées", "الإحصاء التطبيقي", 30),
                ("Apprentissage automatique", "التعلم الآلي", 50),
                ("Éthique de l'IA", "أخلاقيات الذكاء الاصطناعي", 12.5),
            ],
            issued_on=claims.issued_on, expires_on=claims.expires_on,
            verify_url=verify_url("https://kafaa.ma", token), verification_code=verification_code(token),
            issuer_name="Programme national Kafaa — Ministère de la Transition numérique",
            domain="kafaa.ma",
        ))
    return out


def bare_qr(url: str) -> segno.QRCode:
    """The baseline's QR code as segno makes it by default: the same segments, version and error level
    as the certificate's, and segno choosing the mask by scoring all eight (the app fixes it instead)."""
    return segno.make(qr_segments(url), error=ERROR, micro=False, boost_error=False)


def _labels(content: CertificateContent) -> list[dict[str, str]]:
    """The certificate's labels in its three languages (certificates.wording), dates and total included."""
    total = f"{sum(h for _, _, h in content.modules):g}"
    dates = {"ar": date_ar, "zgh": date_zgh, "fr": date_fr}
    labels = [wording.words(message) for message in (wording.TITLE, wording.AWARDED_TO, wording.FOR_TRACK,
                                                     wording.MODULES, wording.SIGNED, wording.CHECK_AT)]
    labels.append({lang: wording.word(wording.TOTAL, lang, hours=total) for lang in wording.LANGUAGES})
    labels.append({lang: wording.word(wording.ISSUED_VALID, lang, issued=dates[lang](content.issued_on),
                                      expires=dates[lang](content.expires_on or content.issued_on))
                   for lang in wording.LANGUAGES})
    return labels


def bare_page(content: CertificateContent) -> bytes:
    """The floor: the same strings in the same embedded fonts (the three columns' labels, names, titles,
    modules and dates: Latin, Arabic and Tifinagh), no shaping or layout, and the QR."""
    fonts.register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=landscape(A4), pageCompression=1)
    labels = _labels(content)
    latin = [content.issuer_name, content.holder, content.track_title_fr, content.serial,
             content.verification_code, content.domain] + [label["fr"] for label in labels]
    latin += [f"{fr} {h:g} h" for fr, _, h in content.modules]
    arabic = [content.issuer_name_ar, content.holder_ar, content.track_title_ar] + [label["ar"] for label in labels]
    arabic += [ar for _, ar, _ in content.modules]
    tifinagh = [content.holder_tfng, content.track_title_zgh] + [label["zgh"] for label in labels]
    for font, x, draw, texts in ((fonts.LATIN, 40, c.drawString, latin), (fonts.TIFINAGH, 421, c.drawCentredString, tifinagh),
                                 (fonts.ARABIC, 800, c.drawRightString, arabic)):
        y = 560.0
        for text in filter(None, texts):
            c.setFont(font, 9)
            draw(x, y, text)
            y -= 13
    draw_qr(c, bare_qr(content.verify_url), 700, 68, 85)
    c.showPage()
    c.save()
    return buf.getvalue()


def default_variants(workdir: Path) -> dict[str, Variant]:
    signer = PdfSigner.from_directory(workdir)  # loaded once, as the app does
    return {
        "a: bare reportlab": bare_page,
        "b: render_certificate": render_certificate,
        "c: render + sign": lambda content: signer.sign(render_certificate(content)),
    }


def run(variants: Mapping[str, Variant], contents: Sequence[CertificateContent], *,
        rounds: int = 5, seconds: float = 2.0) -> dict[str, list[float]]:
    """Certificates a second for each variant, per round, variants interleaved within a round."""
    for fn in variants.values():  # warm up: font registration, imports, first-run keys
        fn(contents[0])
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        fonts.visual.cache_clear()  # names are new on every real certificate
        fonts.runs.cache_clear()
        for name, fn in variants.items():
            done, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                fn(contents[done % len(contents)])
                done += 1
            rates[name].append(done / elapsed)
    return rates


def report(rates: Mapping[str, list[float]]) -> None:
    names = list(rates)
    print(f"{'variant':<26}{'median/s':>10}{'min/s':>9}{'max/s':>9}")
    for name in names:
        r = rates[name]
        print(f"{name:<26}{statistics.median(r):>10.1f}{min(r):>9.1f}{max(r):>9.1f}")
    base = rates[names[0]]
    for name in names[1:]:
        key = f"{name[0]}/{names[0][0]}"
        ratios = [x / b for x, b in zip(rates[name], base)]
        target = TARGETS.get(key)
        note = f"  (target >= {target})" if target else ""
        print(f"ratio {key}: median {statistics.median(ratios):.2f}, "
              f"range {min(ratios):.2f}-{max(ratios):.2f}{note}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0, help="per variant per round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rates = run(default_variants(workdir), sample_contents(workdir),
                    rounds=args.rounds, seconds=args.seconds)
    report(rates)


if __name__ == "__main__":
    main()
