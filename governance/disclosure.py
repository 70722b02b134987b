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

from collections import deque
from collections.abc import Callable, Mapping
from operator import itemgetter
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
    """A change between two written counts, for governance: only when both are written exactly and the
    change is 0 or at least 5 either way. A change of 1 to 4 is itself a small count of people (joined
    or left); one between hidden counts would narrow them."""
    if isinstance(before, bool) or isinstance(now, bool) or not (isinstance(now, int) and isinstance(before, int)):
        return None
    difference = now - before
    return difference if difference == 0 or abs(difference) >= THRESHOLD else None


# --- the family of views: every figure a governance user can request for one day -------------------

BIG = 1 << 62  # "no upper bound", in integer arithmetic (INF as a float would make every sum a float)


class _Problem:
    """Figures (variables), how each is written and its true count, and the sums an outsider knows
    (total = sum of parts, over figures and unpublished auxiliaries). `narrow` is the outsider's
    subtraction; `protect` hides figures until it pins no small count. Integers throughout."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.exact: list[int] = []
        self.written: list[Shown] = []
        self.hideable: list[bool] = []
        self.checked: list[bool] = []  # a published figure (auxiliaries are not: nobody reads them)
        self.equations: list[tuple[int, list[int]]] = []
        self.lines: list[list[int]] = []  # figure -> the equations it is in

    def add(self, key: Any, exact: int, written: Shown, *, hideable: bool = False, checked: bool = True) -> int:
        self.index[key] = len(self.exact)
        self.exact.append(int(exact))
        self.written.append(written)
        self.hideable.append(hideable)
        self.checked.append(checked)
        self.lines.append([])
        return self.index[key]

    def aux(self, key: Any, exact: int, *, known: bool = False) -> int:
        """An unpublished quantity: unknown ([0, inf)), or `known` exactly (assumed known, to be safe)."""
        return self.add(key, exact, int(exact) if known else WITHHELD, checked=False)

    def equation(self, total: Any, parts: list[Any]) -> None:
        number = len(self.equations)
        ids = [self.index[k] for k in parts]
        self.equations.append((self.index[total], ids))
        for i in {self.index[total], *ids}:
            self.lines[i].append(number)

    def narrow(self) -> tuple[list[int], list[int]]:
        """Each figure's range as an outsider narrows it: subtraction along every equation, again and
        again until nothing moves (a queue of the equations whose figures moved)."""
        lows, highs = [], []
        for value in self.written:
            low, high = bounds(value)
            lows.append(int(low))
            highs.append(BIG if high == INF else int(high))
        equations, lines = self.equations, self.lines
        queue = deque(range(len(equations)))
        queued = [True] * len(equations)
        budget = 200 * len(equations) + 1000
        pop, push = queue.popleft, queue.append
        while queue and budget:
            budget -= 1
            number = pop()
            queued[number] = False
            total, parts = equations[number]
            sum_low = sum_high = infinite = 0
            for p in parts:
                sum_low += lows[p]
                high = highs[p]
                if high >= BIG:
                    infinite += 1
                else:
                    sum_high += high
            moved = []
            t_low, t_high = lows[total], highs[total]
            if sum_low > t_low or (not infinite and sum_high < t_high):
                if sum_low > t_low:
                    t_low = lows[total] = sum_low
                if not infinite and sum_high < t_high:
                    t_high = highs[total] = sum_high
                moved.append(total)
            if t_high >= BIG and (infinite > 1 or not t_low):
                pass  # no part can move: each part's bounds need a bounded total or others bounded
            else:
                for p in parts:
                    low, high = lows[p], highs[p]
                    if high >= BIG:
                        others_high = sum_high if infinite == 1 else BIG
                    else:
                        others_high = BIG if infinite else sum_high - high
                    new_low = t_low - others_high if others_high < BIG and t_low - others_high > low else low
                    new_high = t_high - sum_low + low if t_high < BIG and t_high - sum_low + low < high else high
                    if new_low != low or new_high != high:
                        lows[p], highs[p] = new_low, new_high
                        moved.append(p)
            for figure in moved:
                for other in lines[figure]:
                    if not queued[other]:
                        queued[other] = True
                        push(other)
        return lows, highs

    def _candidate(self, figure: int) -> int | None:
        """The figure to hide next for a pinned one: the smallest shown non-zero hideable figure in its
        equations, else in those of the figures they hold (and so on outward)."""
        seen_equations: set[int] = set()
        seen, frontier = {figure}, [figure]
        while frontier:
            numbers = [n for f in frontier for n in self.lines[f] if n not in seen_equations]
            seen_equations.update(numbers)
            best = None
            following = []
            for n in numbers:
                total, parts = self.equations[n]
                for k in (total, *parts):
                    if (self.hideable[k] and self.exact[k] > 0 and self.written[k] not in MARKERS
                            and (best is None or (self.exact[k], k) < best)):
                        best = (self.exact[k], k)
                    if k not in seen:
                        seen.add(k)
                        following.append(k)
            if best is not None:
                return best[1]
            frontier = following
        return None

    def protect(self) -> None:
        """Complementary suppression over the whole problem: while the outsider pins a hidden figure
        whose true count is 1 to 4, hide one more figure ("5+") near each pinned one; when none is left
        to hide, or after as many rounds as figures, withhold every hideable figure."""
        small = [i for i in range(len(self.exact)) if self.checked[i] and is_small(self.exact[i])]
        for _round in range(len(self.exact) + 1):
            if not any(self.written[i] in MARKERS for i in small):
                return  # nothing small is hidden: nothing to pin
            lows, highs = self.narrow()
            pinned = [i for i in small if self.written[i] in MARKERS and lows[i] >= highs[i]]
            if not pinned:
                return
            for figure in pinned:
                choice = self._candidate(figure)
                if choice is None:
                    break
                self.written[choice] = AT_LEAST
            else:
                continue
            break
        for i, hideable in enumerate(self.hideable):
            if hideable:
                self.written[i] = WITHHELD

    def get(self, key: Any, default: Shown = 0) -> Shown:
        return self.written[self.index[key]] if key in self.index else default


def narrow(written: Mapping[Any, Shown], equations: list[tuple[Any, list[Any]]]) -> dict[Any, tuple[float, float]]:
    """What an outsider can narrow each figure to, from how figures are written and the equations
    (total, parts) they know (the parts add up to the total)."""
    problem = _Problem()
    for key, value in written.items():
        problem.add(key, 0, value)
    for total, parts in equations:
        problem.equation(total, parts)
    lows, highs = problem.narrow()
    return {key: (lows[i], INF if highs[i] >= BIG else highs[i]) for key, i in problem.index.items()}


def protect_grid(grid: Mapping[tuple[str, str], int], rows_written: Mapping[str, Shown],
                 cols_written: Mapping[str, Shown]) -> dict[tuple[str, str], Shown]:
    """A two-way table (row key, column key) -> count whose row and column totals are written as given
    (each protected in its own one-way table against the grand total): its cells protected along rows,
    columns and totals (a line whose total is hidden small, or withheld, is withheld)."""
    problem = _Problem()
    rows = {r: [k for k in grid if k[0] == r] for r in rows_written}
    cols = {c: [k for k in grid if k[1] == c] for c in cols_written}
    grand = sum(int(v) for v in grid.values())
    problem.add("total", grand, shown(grand))
    for r, keys in rows.items():
        problem.add(("row", r), sum(int(grid[k]) for k in keys), rows_written[r])
    for c, keys in cols.items():
        problem.add(("col", c), sum(int(grid[k]) for k in keys), cols_written[c])
    for key, value in grid.items():
        withheld = rows_written[key[0]] in (SMALL, WITHHELD) or cols_written[key[1]] in (SMALL, WITHHELD)
        problem.add(key, value, WITHHELD if withheld else shown(int(value)), hideable=True)
    problem.equation("total", [("row", r) for r in rows])
    problem.equation("total", [("col", c) for c in cols])
    for r, keys in rows.items():
        problem.equation(("row", r), keys)
    for c, keys in cols.items():
        problem.equation(("col", c), keys)
    problem.protect()
    return {key: problem.get(key) for key in grid}


Groups = list[tuple[Mapping[str, str], int]]


def _keys_of(combo: tuple[str, ...]) -> Callable[[Mapping[str, str]], tuple]:
    """attrs -> the tuple of their keys for the combo's dims."""
    if len(combo) > 1:
        return itemgetter(*combo)
    if combo:
        (dim,) = combo
        return lambda attrs: (attrs[dim],)
    return lambda _attrs: ()


class Family:
    """Every count a governance user can request for one day, protected together, since a reader may
    subtract along all of them at once. `scopes`: the counts per combination of attributes
    ([({dim: key}, count)]) of the programme (key None) and of each track (any other key).

    A figure is a count of people in a scope with some attributes (a condition: dim -> key). Published
    (docs/rules.md, "Filters"):
    - the programme's total and its one-way tables, each protected against the total (`protect`):
      fixed first, so the unfiltered view never depends on the rest;
    - each track's total, as a cell of the table of tracks, protected with the tracks' one-way tables
      (fixed next);
    - the programme's two-way tables of a filterable dim (sector, region) by any other dim, and each
      track's one-way tables: protected together (`joint`);
    - nothing finer: finer views are withheld.
    The outsider also knows what any registry tells: every count splits along any attribute into
    counts of 0 or more, published or not (the two-way tables of the tracks and the three-way tables
    (sector x region x dim) are modelled as unknowns, so that three published two-way tables cannot be
    played against each other); a track's count of a figure is at most the programme's (not by
    training language, which may differ per track); and the tracks' counts add up to the programme's
    plus the extra holdings of people in several tracks, assumed known (the safe side)."""

    def __init__(self, scopes: Mapping[Any, Groups], dims: tuple[str, ...],
                 filterable: tuple[str, ...] = ("sector", "region")) -> None:
        self.dims = tuple(dims)
        self.filterable = tuple(d for d in filterable if d in dims)
        self.tracks = [k for k in scopes if k is not None]
        self.scopes = [None, *self.tracks]
        groups = {None: list(scopes.get(None, [])), **{k: list(scopes[k]) for k in self.tracks}}
        pairs = sorted({tuple(sorted((f, d))) for f in self.filterable for d in self.dims if d != f})
        triples = (sorted({tuple(sorted((*self.filterable, d))) for d in self.dims if d not in self.filterable})
                   if len(self.filterable) == 2 else [])
        self.combos: list[tuple[str, ...]] = [(), *((d,) for d in self.dims), *pairs, *triples]
        self.published_pairs = set(pairs)
        # The counts of a scope are summed per combo when first asked for (exact): a view of totals, such as
        # the funnel's tracks, needs a handful of the combos, and only the joint tables need them all.
        self._groups = groups
        self._combo_set = set(self.combos)
        self._counts: dict[tuple[Any, tuple[str, ...]], dict[tuple, int]] = {}
        self.keys = {dim: sorted({attrs[dim] for rows in groups.values() for attrs, _count in rows})
                     for dim in self.dims}
        grand = self.exact(None, ())
        self.written: dict[Any, Shown] = {(None, ()): shown(grand)}
        for dim in self.dims:  # the unfiltered view: each breakdown against the total, nothing else
            table = protect({k: self.exact(None, ((dim, k),)) for k in self.keys[dim]}, grand, total_shown=shown(grand))
            self.written.update({(None, ((dim, k),)): v for k, v in table.items()})
        self.written.update(self._track_totals())
        self._joint: _Problem | None = None

    def exact(self, scope: Any, cond: tuple) -> int:
        """The true count of a figure: people of `scope` with the attributes of `cond` ((dim, key), ... in the
        order of its combo); 0 for a scope or a combo the family does not hold."""
        return self._table(scope, tuple(d for d, _k in cond)).get(cond, 0)

    def _table(self, scope: Any, combo: tuple[str, ...]) -> dict[tuple, int]:
        """The counts of one combo in one scope (condition -> count), summed from the scope's groups when first
        asked for."""
        counts = self._counts.get((scope, combo))
        if counts is None:
            counts = self._counts[(scope, combo)] = {}
            if scope in self._groups and combo in self._combo_set:
                # Summed by the combo's keys alone (a tuple of them), then named once per distinct key.
                keys = _keys_of(combo)
                summed: dict[tuple, int] = {}
                for attrs, count in self._groups[scope]:
                    key = keys(attrs)
                    summed[key] = summed.get(key, 0) + count
                counts.update((tuple(zip(combo, key)), n) for key, n in summed.items())
        return counts

    def _conditions(self, combo: tuple[str, ...]) -> list[tuple]:
        result: list[tuple] = [()]
        for dim in combo:
            result = [(*c, (dim, k)) for c in result for k in self.keys[dim]]
        return result

    def _build(self, problem: _Problem, combos: list[tuple[str, ...]]) -> None:
        """Every figure of these combos in every scope (published: as written or to be protected;
        else unknown), the equations within each scope, and across scopes per figure."""
        for combo in combos:
            level = len(combo)
            tables = {scope: self._table(scope, combo) for scope in self.scopes}
            for cond in self._conditions(combo):
                counts = {scope: tables[scope].get(cond, 0) for scope in self.scopes}
                for scope in self.scopes:
                    name, exact = (scope, cond), counts[scope]
                    parent_hidden = any(self.written.get((scope, cond[:i] + cond[i + 1:])) in (SMALL, WITHHELD)
                                        for i in range(level))
                    if name in self.written:
                        problem.add(name, exact, self.written[name])
                    elif level == 0 or (level == 1 and scope is not None) or (scope is None and combo in self.published_pairs):
                        problem.add(name, exact, WITHHELD if parent_hidden else shown(exact), hideable=True)
                    else:
                        problem.aux(name, exact)
                if self.tracks:
                    extra = sum(counts[k] for k in self.tracks) - counts[None]
                    problem.aux(("sum", cond), extra + counts[None])
                    problem.aux(("extra", cond), extra, known=True)
                    problem.equation(("sum", cond), [(k, cond) for k in self.tracks])
                    problem.equation(("sum", cond), [(None, cond), ("extra", cond)])
                    if "language" not in combo:  # a track's people are among the programme's
                        for k in self.tracks:
                            problem.aux(("outside", k, cond), counts[None] - counts[k])
                            problem.equation((None, cond), [(k, cond), ("outside", k, cond)])
        present = set(combos)
        for combo in combos:  # a figure splits along any of its dims' keys
            for i, dim in enumerate(combo):
                parent = combo[:i] + combo[i + 1:]
                if parent not in present:
                    continue
                for cond in self._conditions(parent):
                    for scope in self.scopes:
                        parts = [(scope, tuple(sorted((*cond, (dim, k))))) for k in self.keys[dim]]
                        problem.equation((scope, cond), parts)

    def _track_totals(self) -> dict[Any, Shown]:
        if not self.tracks:
            return {}
        if self.written[(None, ())] in (SMALL, WITHHELD):  # fewer than 5 people: every track's too
            return {(k, ()): WITHHELD for k in self.tracks}
        # Protected with the tracks' one-way tables, whose figures the joint tables publish later: the
        # programme's one-way tables are fixed already, so totals fixed here without them could pin a
        # track's hidden figure in the joint tables, with nothing left there to hide.
        problem = _Problem()
        self._build(problem, [(), *((d,) for d in self.dims)])
        problem.protect()
        return {(k, ()): problem.get((k, ())) for k in self.tracks}

    def joint(self) -> _Problem:
        """The programme's two-way tables and the tracks' one-way tables, protected together (the costly
        part: built once per family, and only when a view needs it)."""
        if self._joint is None:
            self._joint = _Problem()
            self._build(self._joint, self.combos)
            self._joint.protect()
        return self._joint

    def figure(self, scope: Any, chosen: Mapping[str, str]) -> Shown:
        """A count as written: published figures as protected, anything finer withheld."""
        cond = tuple(sorted(chosen.items()))
        if (scope, cond) in self.written:
            return self.written[(scope, cond)]
        combo = tuple(d for d, _k in cond)
        published = (len(cond) == 1 and scope is not None) or (scope is None and combo in self.published_pairs)
        if not published:
            return WITHHELD
        if any(k not in self.keys[d] for d, k in cond):
            return 0  # nobody anywhere has that attribute
        return self.joint().get((scope, cond))

    def total(self, scope: Any, chosen: Mapping[str, str]) -> Shown:
        """A view's total as written (cheap unless it is a figure of the joint tables)."""
        if not chosen and scope is not None and scope not in self.tracks:
            return 0  # a track nobody holds
        return self.figure(scope, chosen)

    def view(self, scope: Any, chosen: Mapping[str, str]) -> tuple[Shown, dict[str, dict[str, Shown]]]:
        """A view as written: its total, and its breakdown by each dim (key -> written count)."""
        total = self.total(scope, chosen)
        breakdowns = {dim: ({chosen[dim]: total} if dim in chosen
                            else {k: self.total(scope, {**chosen, dim: k}) for k in self.keys[dim]})
                      for dim in self.dims}
        return total, breakdowns


def filtered_view(groups: Groups, chosen: Mapping[str, str], dims: tuple[str, ...],
                  filterable: tuple[str, ...] = ("sector", "region")) -> tuple[Shown, dict[str, dict[str, Shown]]]:
    """A view of the programme (no tracks) filtered as `chosen` (dim -> key), as written."""
    return Family({None: groups}, dims, filterable).view(None, chosen)
