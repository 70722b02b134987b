"""Disclosure control: the one rule for every count of people that the governance role can reach
(API, dashboard numbers, bars and charts, the quarterly PDF/XLSX, snapshots shown back). Pure
functions, no Flask, no database. Admins see exact figures; callers decide who gets `exact`.

The rule (docs/rules.md, "Disclosure control"):
1. Primary suppression: a count from 1 to 4 is written SMALL ("<5"). 0 and 5+ are written as they are.
2. Complementary suppression: in a table whose cells add up to a total that is shown (a breakdown and
   its trained total, a cohort's completed/not completed and enrolled, attended/absent and counted),
   an outsider who knows this rule could bound each hidden cell by subtraction: a "<5" cell lies in
   [1, 4], a complementary cell in [5, inf), a shown cell is exact, and the hidden cells add up to the
   total minus the shown cells. While that bound pins any cell whose true count is 1 to 4 to one value,
   the smallest shown non-zero cell is also hidden, written AT_LEAST ("5+"; it is 5 or more, which is
   true and tells nothing the rule does not already say). If every non-zero cell is hidden and a small
   one can still be worked out, the whole table is withheld: every cell, zeros included, is WITHHELD.
   A table whose total is itself hidden (fewer than 5 people, or withheld) is withheld too: the number
   of its non-zero cells would bound the total and every cell.
3. Chart scales come from what is written: "<5" is drawn at 2.5, "5+" at 5, withheld at 0.
`audit` is the outsider's computation; `protect` keeps hiding until `audit` finds nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

THRESHOLD = 5
SMALL = "<5"          # a count from 1 to 4
AT_LEAST = "5+"       # a count of 5 or more, hidden so that a small one cannot be worked out
WITHHELD = "…"        # a table withheld as a whole: any count, zero included
MARKERS = (SMALL, AT_LEAST, WITHHELD)
BAR = {SMALL: 2.5, AT_LEAST: float(THRESHOLD), WITHHELD: 0.0}
INF = float("inf")

Shown = int | str


def is_small(count: int) -> bool:
    return 1 <= count < THRESHOLD


def shown(count: int) -> Shown:
    """Primary suppression alone: for a count that stands on its own (no table it adds up in)."""
    return SMALL if is_small(count) else count


def bounds(value: Shown) -> tuple[float, float]:
    """What an outsider knows of a count from how it is written."""
    if value == SMALL:
        return (1, THRESHOLD - 1)
    if value == AT_LEAST:
        return (THRESHOLD, INF)
    if value == WITHHELD:
        return (0, INF)
    return (int(value), int(value))


def feasible(cells: Mapping[str, Shown], total: Shown) -> dict[str, tuple[float, float]]:
    """For each cell, the range an outsider can narrow it to from the other cells and the total (one
    linear equation: the interval bounds are exact)."""
    low_total, high_total = bounds(total)
    ranges = {key: bounds(value) for key, value in cells.items()}
    sum_low = sum(low for low, _ in ranges.values())
    sum_high = sum(high for _, high in ranges.values())
    result = {}
    for key, (low, high) in ranges.items():
        others_high = sum_high - high if high != INF else sum(h for k, (_, h) in ranges.items() if k != key)
        others_low = sum_low - low
        result[key] = (max(low, low_total - others_high), min(high, high_total - others_low))
    return result


def audit(cells: Mapping[str, Shown], total: Shown, exact: Mapping[str, int], exact_total: int) -> list[str]:
    """The hidden cells (and "total") whose true count is 1 to 4 and that an outsider can pin down."""
    found = [key for key, (low, high) in feasible(cells, total).items()
             if cells[key] in MARKERS and is_small(exact[key]) and low == high]
    if total in MARKERS and is_small(exact_total):
        low = sum(bounds(v)[0] for v in cells.values())
        high = sum(bounds(v)[1] for v in cells.values())
        t_low, t_high = bounds(total)
        if max(low, t_low) == min(high, t_high):
            found.append("total")
    return found


def protect(counts: Mapping[str, int], total: int | None = None, *, total_shown: Shown | None = None
            ) -> dict[str, Shown]:
    """The cells of a table as written for governance: primary, then complementary suppression against
    the total (their sum unless given). `total_shown`: how the total itself is written (default: by the
    primary rule)."""
    exact = {str(key): int(value) for key, value in counts.items()}
    exact_total = sum(exact.values()) if total is None else int(total)
    written_total = shown(exact_total) if total_shown is None else total_shown
    if is_small(exact_total) or written_total == WITHHELD:
        # Fewer than 5 people: how many cells are not zero would bound the total and each cell.
        return {key: WITHHELD for key in exact}
    cells: dict[str, Shown] = {key: shown(value) for key, value in exact.items()}
    while audit(cells, written_total, exact, exact_total):
        visible = sorted((value, key) for key, value in exact.items()
                         if cells[key] not in MARKERS and value > 0)
        if not visible:
            return {key: WITHHELD for key in exact}
        cells[visible[0][1]] = AT_LEAST
    return cells


def bar_value(value: Shown) -> float:
    """The height a written count is drawn at: never the true count behind a marker."""
    return BAR[value] if isinstance(value, str) else float(value)


def scale(values: Any) -> float:
    """The top of a chart's scale, from what is written only (at least 1)."""
    return max([1.0] + [bar_value(v) for v in values])


def is_hidden(value: Any) -> bool:
    return isinstance(value, str) and value in MARKERS


def share(numerator: Shown, denominator: Shown, exact_numerator: int, exact_denominator: int) -> float | None:
    """A rate, only when both of its counts are written exactly (else it would give them away)."""
    if is_hidden(numerator) or is_hidden(denominator) or not exact_denominator:
        return None
    return exact_numerator / exact_denominator


def split(part: int, whole: int) -> tuple[Shown, Shown]:
    """A part of a whole (completed of enrolled, attended of counted): the part and the whole as
    written, protected together with the rest (whole - part) so none of the three gives a small count."""
    cells = protect({"part": part, "rest": max(whole - part, 0)}, whole)
    return cells["part"], shown(whole)


BREAKDOWN_KEYS = ("by_category", "by_sector", "by_region", "by_gender", "by_language")
EVENTS_OF_PEOPLE = ("issued", "revoked", "expired")  # "verifications" are checks, not people


def written_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """Figures in their JSON shape (a snapshot's, `Figures.to_json`) as governance may read them: the
    trained total by the "<5" rule, each breakdown protected against it, certificate events of people
    by the "<5" rule. Other keys are left as they are."""
    trained = int(data.get("trained") or 0)
    total = shown(trained)
    result = dict(data)
    result["trained"] = total
    for key in BREAKDOWN_KEYS:
        if isinstance(data.get(key), Mapping):
            result[key] = protect({k: int(v) for k, v in data[key].items()}, trained, total_shown=total)
    if isinstance(data.get("certificates"), Mapping):
        result["certificates"] = {k: shown(int(v)) if k in EVENTS_OF_PEOPLE else v
                                  for k, v in data["certificates"].items()}
    return result


def written_difference(before: Any, now: Any) -> int | None:
    """A change between two written counts, only when both are written exactly."""
    if isinstance(before, bool) or isinstance(now, bool):
        return None
    return now - before if isinstance(now, int) and isinstance(before, int) else None


# --- views through filters: a filtered figure is a cell of a bigger table ---------------------------

def narrow(written: Mapping[Any, Shown], equations: list[tuple[Any, list[Any]]]) -> dict[Any, tuple[float, float]]:
    """What an outsider can narrow each figure to, from how figures are written and the equations
    (total, parts) they know (the parts add up to the total), subtracting along rows, columns and
    totals again and again until nothing moves."""
    ranges = {key: list(bounds(value)) for key, value in written.items()}
    for _round in range(100):
        moved = False
        for total, parts in equations:
            for key in [total, *parts]:
                if key == total:
                    new = [max(ranges[key][0], sum(ranges[k][0] for k in parts)),
                           min(ranges[key][1], sum(ranges[k][1] for k in parts))]
                else:
                    others_low = sum(ranges[k][0] for k in parts if k != key)
                    others_high = sum(ranges[k][1] for k in parts if k != key)
                    new = [max(ranges[key][0], ranges[total][0] - others_high),
                           min(ranges[key][1], ranges[total][1] - others_low)]
                if new != ranges[key]:
                    ranges[key], moved = new, True
        if not moved:
            break
    return {key: (low, high) for key, (low, high) in ranges.items()}


def protect_grid(grid: Mapping[tuple[str, str], int], rows_written: Mapping[str, Shown],
                 cols_written: Mapping[str, Shown]) -> dict[tuple[str, str], Shown]:
    """A two-way table (row key, column key) -> count whose row and column totals are written as given
    (each protected in its own one-way table against the grand total): primary suppression, then
    complementary suppression until no small count — a cell, a row or column total, or the grand
    total — can be narrowed to its value by subtraction along rows, columns and totals, repeated
    (`narrow`). The cell hidden next is the smallest shown non-zero one in the row, else the column, of
    what was pinned; a line with nothing left to hide, or whose total is hidden small, is withheld."""
    exact: dict[Any, int] = {("cell", *key): int(value) for key, value in grid.items()}
    row_keys = {r: [("cell", *k) for k in grid if k[0] == r] for r in rows_written}
    col_keys = {c: [("cell", *k) for k in grid if k[1] == c] for c in cols_written}
    for r, keys in row_keys.items():
        exact[("row", r)] = sum(exact[k] for k in keys)
    for c, keys in col_keys.items():
        exact[("col", c)] = sum(exact[k] for k in keys)
    exact[("total",)] = sum(int(v) for v in grid.values())
    written: dict[Any, Shown] = {k: shown(v) for k, v in exact.items() if k[0] == "cell"}
    written.update({("row", r): v for r, v in rows_written.items()})
    written.update({("col", c): v for c, v in cols_written.items()})
    written[("total",)] = shown(exact[("total",)])
    equations = ([(("row", r), keys) for r, keys in row_keys.items()]
                 + [(("col", c), keys) for c, keys in col_keys.items()]
                 + [(("total",), [("row", r) for r in rows_written]), (("total",), [("col", c) for c in cols_written])])
    for total, parts in equations[:len(row_keys) + len(col_keys)]:
        if written[total] in (SMALL, WITHHELD):  # a line of fewer than 5 people, or withheld: withheld
            for k in parts:
                written[k] = WITHHELD

    def lines_of(key: Any) -> list[list[Any]]:
        if key[0] == "cell":
            return [row_keys[key[1]], col_keys[key[2]]]
        if key[0] == "row":
            return [row_keys[key[1]]]
        if key[0] == "col":
            return [col_keys[key[1]]]
        return list(row_keys.values())

    for _round in range(4 * len(exact) + 4):
        ranges = narrow(written, equations)
        pinned = [k for k, (low, high) in ranges.items()
                  if written[k] in MARKERS and is_small(exact[k]) and low == high]
        if not pinned:
            break
        # The pinned figure's own lines first, then any line: the smallest shown non-zero cell.
        for keys in [*lines_of(pinned[0]), *row_keys.values(), *col_keys.values()]:
            visible = sorted((exact[k], k) for k in keys if written[k] not in MARKERS and exact[k] > 0)
            if visible:
                written[visible[0][1]] = AT_LEAST
                break
        else:
            for k in written:
                if k[0] == "cell":
                    written[k] = WITHHELD
            break
    return {(k[1], k[2]): v for k, v in written.items() if k[0] == "cell"}


def protect_joint(groups: list[tuple[Mapping[str, str], int]], dims: tuple[str, ...],
                  filtered: tuple[str, ...]) -> dict[tuple[str, str, str, str], Shown]:
    """Every two-way table (filtered dimension x any other dimension) of one scope, protected together:
    they share their margins (the unfiltered one-way tables, each protected against the grand total)
    and a reader can subtract along all of them at once. Keys: (dim, key, dim, key) with the two dims in
    sorted order. Same steps as protect_grid, over the union of the tables' equations."""
    grand = sum(count for _attrs, count in groups)
    exact: dict[Any, int] = {("total",): grand}
    for attrs, count in groups:
        for dim in dims:
            exact[("m", dim, attrs[dim])] = exact.get(("m", dim, attrs[dim]), 0) + count
    keys = {dim: sorted({k[2] for k in exact if k[0] == "m" and k[1] == dim}) for dim in dims}
    written: dict[Any, Shown] = {("total",): shown(grand)}
    for dim in dims:
        margin = protect({k: exact[("m", dim, k)] for k in keys[dim]}, grand, total_shown=shown(grand))
        written.update({("m", dim, k): v for k, v in margin.items()})
    pairs = sorted({tuple(sorted((f, d))) for f in filtered for d in dims if d != f})
    for first, second in pairs:
        for a in keys[first]:
            for b in keys[second]:
                exact[("c", first, a, second, b)] = 0
        for attrs, count in groups:
            exact[("c", first, attrs[first], second, attrs[second])] += count
    for key, value in exact.items():
        if key[0] == "c":
            written[key] = shown(value)
    equations: list[tuple[Any, list[Any]]] = [(("total",), [("m", d, k) for k in keys[d]]) for d in dims]
    for first, second in pairs:
        for a in keys[first]:
            equations.append((("m", first, a), [("c", first, a, second, b) for b in keys[second]]))
        for b in keys[second]:
            equations.append((("m", second, b), [("c", first, a, second, b) for a in keys[first]]))
    cell_lines = [parts for total, parts in equations if total[0] == "m"]
    for total, parts in equations:
        if total[0] == "m" and written[total] in (SMALL, WITHHELD):
            for k in parts:
                written[k] = WITHHELD
    for _round in range(len(exact) + 4):
        ranges = narrow(written, equations)
        pinned = [k for k, (low, high) in ranges.items()
                  if written[k] in MARKERS and is_small(exact[k]) and low == high]
        if not pinned:
            break
        own = [parts for total, parts in equations if pinned[0] == total or pinned[0] in parts]
        for parts in [*own, *cell_lines]:
            visible = sorted((exact[k], k) for k in parts
                             if k[0] == "c" and written[k] not in MARKERS and exact[k] > 0)
            if visible:
                written[visible[0][1]] = AT_LEAST
                break
        else:
            for k in written:
                if k[0] == "c":
                    written[k] = WITHHELD
            break
    return {k[1:]: v for k, v in written.items() if k[0] == "c"}


def filtered_view(groups: list[tuple[Mapping[str, str], int]], chosen: Mapping[str, str],
                  dims: tuple[str, ...], filterable: tuple[str, ...] = ("sector", "region"), *,
                  total_only: bool = False) -> tuple[Shown, dict[str, dict[str, Shown]]]:
    """A view filtered on one or two of `filterable` (`chosen`: dim -> key), as written: its total as
    the cell it is in the unfiltered one-way table (one filter) or the two-way table of the filters
    (two), and, with one filter, its breakdown by each other dimension as its row of the jointly
    protected two-way tables (protect_joint). With two filters each breakdown is protected against the
    view's total only (docs/rules.md). `groups`: the scope's counts per combination ({dim: key}, count)."""
    grand = sum(count for _attrs, count in groups)
    joints: list[dict] = []

    def cell(d1: str, k1: str, d2: str, k2: str) -> Shown:
        if not joints:  # the costly part: only when a two-way cell is needed
            joints.append(protect_joint(groups, dims, tuple(d for d in filterable if d in dims)))
        (a, ka), (b, kb) = sorted(((d1, k1), (d2, k2)))
        return joints[0].get((a, ka, b, kb), 0)

    names = list(chosen)
    if len(names) == 1:
        (dim,) = names
        counts: dict[str, int] = {}
        for attrs, count in groups:
            counts[attrs[dim]] = counts.get(attrs[dim], 0) + count
        total = protect(counts, grand, total_shown=shown(grand)).get(chosen[dim], 0)
        if total_only:
            return total, {}
        keys = {other: {attrs[other] for attrs, _count in groups} for other in dims}
        breakdowns = {other: ({chosen[dim]: total} if other == dim
                              else {k: cell(dim, chosen[dim], other, k) for k in keys[other]})
                      for other in dims}
        return total, breakdowns
    first, second = names[:2]
    total = cell(first, chosen[first], second, chosen[second])
    if total_only:
        return total, {}
    inside = [(attrs, count) for attrs, count in groups if all(attrs[d] == chosen[d] for d in names)]
    breakdowns = {}
    for other in dims:
        inner: dict[str, int] = {}
        for attrs, count in inside:
            inner[attrs[other]] = inner.get(attrs[other], 0) + count
        breakdowns[other] = ({chosen[other]: total} if other in chosen
                             else protect(inner, sum(inner.values()), total_shown=total))
    return total, breakdowns
