"""The quarterly report of the governance cell: one PDF and one XLSX, French and Arabic side by side.

Figures in, two files out: no database. `figures` is what `governance.queries.full_figures(quarter)`
returns (exact counts, typed), or the JSON a snapshot holds. The report is written for the governance
cell and applies the disclosure rule (governance.disclosure, docs/rules.md) wherever a count of people is
printed, through rows.py:

- the trained total, the trend and each breakdown count from 1 to 4 are written "<5"; a breakdown is
  protected against its total (complementary "5+", or "…" for a table withheld) so that no "<5" can be
  worked out by subtraction, in tables and chart labels alike, in both files; corrections print each
  value as it is written in its own protected table;
- certificate events of people (issued, revoked, expired) follow the "<5" rule; checks by verifiers
  are exact;
- a change since the previous quarter is printed only when both counts are written exactly; otherwise
  it is written "—";
- bars and chart scales come from written counts only ("<5" at 2.5, "5+" at 5, lighter colour);
- cohort rows show rates only, and only when the counts behind a rate are written exactly.

The modules: labels.py (every label, from the translation catalogs), rows.py (what both files print),
layout.py and charts.py (drawing on PDF pages), pdf.py and xlsx.py (the two files).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from governance.figures import Figures
from governance.report.labels import merge_labels
from governance.report.pdf import write_pdf
from governance.report.xlsx import write_xlsx

__all__ = ["REPORT_FORMATS", "write_quarterly_report"]

REPORT_FORMATS = ("pdf", "xlsx")


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, so a reader never sees half a report."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _typed(figures: Figures | Mapping[str, Any]) -> Figures:
    return figures if isinstance(figures, Figures) else Figures.from_json(figures)


def write_quarterly_report(figures: Figures | Mapping[str, Any], previous: Figures | Mapping[str, Any] | None,
                           corrections: Sequence[Mapping[str, Any]], out_dir: Path, *,
                           labels: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> tuple[Path, Path]:
    """Write kafaa-report-<quarter>.pdf and .xlsx into out_dir (created if need be); return both paths.
    `labels` replaces some of the catalogs' labels (see labels.merge_labels)."""
    pdf_path, xlsx_path = (write_quarterly_report_file(figures, previous, corrections, out_dir, fmt, labels=labels)
                           for fmt in REPORT_FORMATS)
    return pdf_path, xlsx_path


def write_quarterly_report_file(figures: Figures | Mapping[str, Any], previous: Figures | Mapping[str, Any] | None,
                                corrections: Sequence[Mapping[str, Any]], out_dir: Path, fmt: str, *,
                                labels: Mapping[str, Mapping[str, Sequence[str]]] | None = None) -> Path:
    """Write one of the two files, kafaa-report-<quarter>.<fmt> (fmt "pdf" or "xlsx"), into out_dir."""
    figures = _typed(figures)  # a quarter that is not one is refused here, before anything is written
    previous = _typed(previous) if previous is not None else None
    merged = merge_labels(labels)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"kafaa-report-{figures.quarter}.{fmt}"
    write = {"pdf": write_pdf, "xlsx": write_xlsx}[fmt]
    _atomic(path, lambda temporary: write(temporary, figures, previous, corrections or [], merged))
    return path
