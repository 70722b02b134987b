"""The report's PDF: A4 portrait, French on the left and Arabic on the right of every line; key figures,
progress toward the targets, charts, the breakdown tables, certificate events, cohort rates and the
corrections of closed quarters."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from certificates import fonts
from common.printed_dates import date_ar, date_fr
from governance.disclosure import AT_LEAST, SMALL, WITHHELD, written_difference
from governance.figures import BREAKDOWNS, Figures
from governance.report.charts import hbar_chart, progress_bar, trend_chart
from governance.report.labels import Labels, label, quarter_ar
from governance.report.layout import (
    BLACK,
    GREEN,
    GREY,
    LEFT,
    PALE,
    RIGHT,
    WIDTH,
    Column,
    Pages,
    fit,
    table,
    table_height,
)
from governance.report.rows import (
    HIDDEN_CHANGE,
    Row,
    breakdown_rows,
    certificate_rows,
    cohort_rows,
    correction_rows,
    fmt_change,
    fmt_count,
    fmt_rate,
    pathway_rows,
    trend_points,
    written_total,
)


def _breakdowntable(p: Pages, name: str, rows: Sequence[Row], labels: Labels,
                     with_change: bool, extra: Sequence[tuple[Column, Callable[[Row], str]]] = ()) -> None:
    """French label | count | [change] | Arabic label: each row on one line, so the count sits next
    to both labels."""
    text = labels["text"]
    dimension = text[name]
    numbers = [Column(text["count"], 70, "right"), *(col for col, _ in extra)]
    if with_change:
        numbers.append(Column(text["change"], 70, "right"))
    label_w = (WIDTH - sum(col.width for col in numbers)) / 2
    columns = [Column(dimension[0], label_w), *numbers, Column(dimension[1], label_w, "right")]
    body = []
    for row in rows:
        cells = [row.label[0], fmt_count(row.count), *(get(row) for _, get in extra)]
        if with_change:
            cells.append(fmt_change(row.change))
        body.append([*cells, row.label[1]])
    # Keep a short table whole with its heading; a long one may break (its header is then repeated).
    p.heading(text[f"by_{name}"], keep=min(table_height(len(body)), 300))
    table(p, columns, body)


def marker_notes(p: Pages, text) -> None:
    """What each disclosure marker means, symbol apart from the Arabic."""
    p.note(text["small_note"], symbol=SMALL)
    p.note(text["complementary_note"], symbol=AT_LEAST)
    p.note(text["withheld_note"], symbol=WITHHELD)


def write_pdf(path: Path, figures: Figures, previous: Figures | None,
              corrections: Sequence[Mapping[str, Any]], labels: Labels) -> None:
    fonts.register_fonts()
    text = labels["text"]
    quarter, as_of, targets, target = figures.quarter, figures.as_of, figures.targets, figures.target
    breakdowns = {name: breakdown_rows(name, figures, previous, labels) for name in BREAKDOWNS}
    with_change = previous is not None

    c = Canvas(str(path), pagesize=A4, pageCompression=1, invariant=1)
    c.setTitle(f"{text['title'][0]} {quarter}")
    c.setAuthor("Kafaa")
    c.setSubject(f"{text['programme'][0]} — {quarter}")
    p = Pages(c, (f"{text['title'][0]} {quarter}", text["programme"][1]), labels)

    # Title block.
    block_h = 96.0
    p.y -= block_h
    c.setFillColor(GREEN)
    c.rect(LEFT, p.y, WIDTH, block_h, fill=1, stroke=0)
    c.setFillColorRGB(1, 1, 1)
    half = WIDTH / 2 - 16
    fit(c, text["programme"][0], LEFT + 12, p.y + block_h - 20, 9, half)
    fit(c, text["programme"][1], RIGHT - 12, p.y + block_h - 20, 9, half, align="right")
    fit(c, text["title"][0], LEFT + 12, p.y + block_h - 46, 20, half, bold=True)
    fit(c, text["title"][1], RIGHT - 12, p.y + block_h - 46, 20, half, align="right")
    fit(c, f"{text['quarter'][0]} {quarter}", LEFT + 12, p.y + 30, 12, half, bold=True)
    fit(c, f"{text['quarter'][1]} {quarter_ar(quarter)}", RIGHT - 12, p.y + 30, 12, half, align="right")
    fit(c, f"{text['as_of'][0]} {date_fr(as_of)}", LEFT + 12, p.y + 12, 10, half)
    fit(c, f"{text['as_of'][1]} {date_ar(as_of)}", RIGHT - 12, p.y + 12, 10, half, align="right")
    c.setFillColor(BLACK)
    p.y -= 10

    # Key figures: trained, target, change, side by side in three boxes.
    box_h, gap = 58.0, 10.0
    box_w = (WIDTH - 2 * gap) / 3
    p.y -= box_h
    written, before = written_total(figures), written_total(previous)
    change = written_difference(before, written) if previous is not None else None
    boxes = [(text["trained"], str(written), None), (text["target"], str(target), None),
             (text["change"], fmt_change(change) if change is not None else "—",
              (f"{text['since'][0]} {previous.quarter}", f"{text['since'][1]} {text['previous'][1]}")
             if previous is not None else None)]
    for index, (pair, value, sub) in enumerate(boxes):
        x = LEFT + index * (box_w + gap)
        c.setFillColor(PALE)
        c.rect(x, p.y, box_w, box_h, fill=1, stroke=0)
        c.setFillColor(GREY)
        fit(c, pair[0], x + 8, p.y + box_h - 14, 8, box_w / 2 - 10)
        fit(c, pair[1], x + box_w - 8, p.y + box_h - 14, 8, box_w / 2 - 10, align="right")
        c.setFillColor(GREEN)
        fonts.draw_text(c, value, x + box_w / 2, p.y + 16, 22, align="center", bold=True)
        if sub:
            c.setFillColor(GREY)
            fit(c, sub[0], x + 8, p.y + 5, 7, box_w / 2 - 10)
            fit(c, sub[1], x + box_w - 8, p.y + 5, 7, box_w / 2 - 10, align="right")
    c.setFillColor(BLACK)
    p.y -= 6

    # Progress toward the targets.
    p.heading(text["progress"], keep=70)
    progress_bar(p, text["trained"], written, target, height=14, size=9.5, bold=True)
    for row in breakdowns["category"]:
        if row.code in targets:
            progress_bar(p, row.label, row.count, int(targets[row.code]))
    p.y -= 4
    marker_notes(p, text)
    p.note(text["bar_note"])
    p.y -= 6

    # Charts.
    hbar_chart(p, text["by_category"], breakdowns["category"])
    hbar_chart(p, text["by_sector"], breakdowns["sector"])
    hbar_chart(p, text["by_region"], breakdowns["region"])
    trend_chart(p, text["trend"], trend_points(figures), text["trend_note"])

    # Tables.
    target_col = (Column(text["target"], 60, "right"),
                  lambda row: str(targets.get(row.code, "")))
    for name in BREAKDOWNS:
        _breakdowntable(p, name, breakdowns[name], labels, with_change,
                         extra=(target_col,) if name == "category" else ())
    if with_change:
        p.note(text["change_note"], symbol=HIDDEN_CHANGE)
    marker_notes(p, text)

    cert_rows = certificate_rows(figures, previous, labels)
    p.heading(text["certificates"], keep=60)
    columns = [Column(text["figure"][0], 0), Column(text["number"], 70, "right")]
    if with_change:
        columns.append(Column(text["change"], 70, "right"))
    columns.append(Column(text["figure"][1], 0, "right"))
    label_w = (WIDTH - sum(col.width for col in columns)) / 2
    columns[0] = Column(columns[0].header, label_w)
    columns[-1] = Column(columns[-1].header, label_w, "right")
    table(p, columns, [[row.label[0], fmt_count(row.count),
                         *([fmt_change(row.change)] if with_change else []), row.label[1]] for row in cert_rows])

    funnel = pathway_rows(figures)
    if funnel is not None:  # snapshots closed before the funnel existed have none
        p.heading(text["pathway"], keep=60)
        columns = [Column(text["level"], 60, "right"), Column(text["tracks"], WIDTH - 300),
                   Column(text["holding"], 110, "right"), Column(text["moved_in"], 130, "right")]
        table(p, columns, [[str(row["level"]), row["tracks"] or "—", fmt_count(row["holding"]),
                             "—" if row["moved_in"] is None else fmt_count(row["moved_in"])]
                            for row in funnel["levels"]])
        p.y -= 6
        label_w = (WIDTH - 70) / 2
        table(p, [Column(text["figure"][0], label_w), Column(text["number"], 70, "right"),
                  Column(text["figure"][1], label_w, "right")],
              [[text[key][0], fmt_count(funnel[key]), text[key][1]] for key in ("trained", "recognised")])
        p.y -= 4
        p.note(text["pathway_note"])

    cohorts = cohort_rows(figures)
    p.heading(text["cohorts"], keep=60)
    if cohorts:
        columns = [Column(text["code"], 110), Column(text["sector"], 85), Column(text["region"], 132),
                   Column(text["language"], 70), Column(text["attendance"], 59, "right"),
                   Column(text["completion"], WIDTH - 456, "right")]
        table(p, columns, [[row["code"], label(labels, "sector", row["sector"]),
                             label(labels, "region", row["region"]),
                             label(labels, "language", row["language"]),
                             fmt_rate(row["attendance"]), fmt_rate(row["completion"])] for row in cohorts],
               size=7.5)
    else:
        p.note(text["no_cohorts"], size=8)

    fixes = correction_rows(corrections, labels)
    if fixes:
        p.heading(text["corrections"], keep=60)
        p.note(text["corrections_note"])
        p.y -= 4
        columns = [Column(text["quarter"], 60), Column(text["figure"], WIDTH - 240),
                   Column(text["closed"], 60, "right"), Column(text["now"], 60, "right"),
                   Column(text["difference"], 60, "right")]
        table(p, columns, [[row["quarter"], row["label"], fmt_count(row["closed"]), fmt_count(row["now"]),
                             fmt_change(row["difference"])] for row in fixes])
    c.showPage()
    c.save()

