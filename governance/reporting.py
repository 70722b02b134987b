"""Producing the quarterly report from the live or frozen figures: from the CLI, as a job (both files in a
ZIP) and as a direct download of one file (the dashboard's links)."""
from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from flask import current_app

from governance import queries
from governance.figures import Figures
from governance.rules import Quarter


def report_figures(quarter: Quarter) -> Figures:
    """A closed quarter reports its snapshot; an open one its live figures."""
    return queries.closed_figures(quarter) or queries.full_figures(quarter)


def build_report(quarter: Quarter, out_dir: Path, progress=None) -> tuple[Path, Path]:
    from governance.report import write_quarterly_report  # reportlab and openpyxl load only when needed

    steps = 3
    figures = report_figures(quarter)
    if progress:
        progress(1, steps)
    previous, corrections = _before(quarter)
    if progress:
        progress(2, steps)
    paths = write_quarterly_report(figures, previous, corrections, Path(out_dir))
    if progress:
        progress(3, steps)
    return paths


def _before(quarter: Quarter) -> tuple[Figures | None, list]:
    """What the report compares the quarter with: the previous quarter's figures, and later corrections."""
    previous = report_figures(quarter.previous()) if quarter.previous() >= queries.first_quarter() else None
    return previous, queries.corrections(quarter)


def report_file(quarter: Quarter, fmt: str) -> tuple[str, bytes]:
    """One file of the report (fmt "pdf" or "xlsx"), built now from the same figures as the job's: its name
    and its bytes. A report is a few pages of aggregates, so it is built within the request."""
    from governance.report import write_quarterly_report_file

    figures = report_figures(quarter)
    previous, corrections = _before(quarter)
    with tempfile.TemporaryDirectory() as folder:
        path = write_quarterly_report_file(figures, previous, corrections, Path(folder), fmt)
        return path.name, path.read_bytes()


def quarterly_report_job(job, progress):
    quarter = Quarter.parse(job.params["quarter"])
    out_dir = Path(current_app.config["EXPORTS_DIR"]) / f"report-{quarter}-job{job.id}"
    pdf, xlsx = build_report(quarter, out_dir, progress)
    archive = out_dir.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(pdf, pdf.name)
        bundle.write(xlsx, xlsx.name)
    return {"files": [pdf.name, xlsx.name]}, str(archive)
