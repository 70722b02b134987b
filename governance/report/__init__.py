"""The quarterly report of the governance cell: one PDF and one XLSX, French and Arabic side by side.

Figures in, two files out: no database. `figures` is what `governance.queries.full_figures(quarter)`
returns (exact counts, typed), or the JSON a snapshot holds; the report applies the small-count rule
itself (`governance.rules.shown`, in rows.py) wherever a breakdown count is printed:

- every breakdown count (category, sector, region, gender, language) from 1 to 4 is written "<5",
  in tables and chart labels alike, in both files; so are those counts in the corrections table;
- a change since the previous quarter is printed only when neither quarter's count is suppressed
  (from "<5" to 7, "+4" would give the hidden count away); otherwise it is written "—";
- in charts a suppressed bar is drawn at height 2.5 (half-way to 5), in a lighter colour, labelled "<5";
- the grand total "trained", the quarterly trend of that total and the certificate event counts are
  exact, as in the API (governance.serializers.progress_json, unfiltered);
- cohort rows show rates only (attendance and completion), never the people counts behind them.

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

__all__ = ["write_quarterly_report"]


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
    figures = _typed(figures)  # a quarter that is not one is refused here, before anything is written
    previous = _typed(previous) if previous is not None else None
    merged = merge_labels(labels)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / f"kafaa-report-{figures.quarter}.pdf"
    xlsx_path = out_dir / f"kafaa-report-{figures.quarter}.xlsx"
    _atomic(pdf_path, lambda path: write_pdf(path, figures, previous, corrections or [], merged))
    _atomic(xlsx_path, lambda path: write_xlsx(path, figures, previous, corrections or [], merged))
    return pdf_path, xlsx_path
