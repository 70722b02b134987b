"""The pathway funnel as the governance role may read it: the small-count rule of governance.disclosure
applied to the sums that tie the funnel's figures together. Pure functions, no database.

What a reader knows, and subtracts along (docs/rules.md, "The pathway funnel"):
- the trained total T (written as everywhere: "<5" from 1 to 4) = the people trained through recognition
  + the others;
- for each level: T = the people holding it + the trained people who do not; everybody trained holds a
  level, so the levels add up to T and more (a person may hold several);
- for each level above the first: the people who moved into it = those of them still holding it on the
  as-of day + those who no longer do; the people holding it = the movers still holding it + the holders
  who did not move in this quarter. Movers who no longer hold it are nearly always none, and a reader
  who guesses so is right: when there are none, the reader is taken to know it.
A level's tracks' totals are shown in the track views (governance.disclosure.Family): the funnel is
protected together with them as that family writes them.
The parts nobody is shown are counts of people too: like the figures shown, none may be narrowed to a
single value from 1 to 4. While one is, the smallest shown non-zero figure of its sums is hidden as "5+";
when nothing is left to hide, every figure of the funnel is withheld ("…").
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Hashable

from governance.disclosure import AT_LEAST, MARKERS, WITHHELD, Shown, is_small, narrow, shown
from governance.figures import Pathway


def _protect(exact: dict[Hashable, int], written: dict[Hashable, Shown], hideable: set[Hashable],
             checked: set[Hashable], equations: list[tuple[Hashable, list[Hashable]]],
             guarded: set[Hashable] = frozenset()) -> dict[Hashable, Shown]:
    """Complementary suppression over a set of sums (total, parts): while the reader's subtraction
    (governance.disclosure.narrow) pins a checked figure whose count is 1 to 4 and that is not shown, or
    any guarded one (hidden by another view: its value must stay unknown), hide the smallest shown
    non-zero hideable figure in its sums (else in any sum). What the other views pin on their own, with
    every hideable figure withheld, is theirs: it is not counted."""
    def pinned_in(values: dict[Hashable, Shown]) -> list[Hashable]:
        ranges = narrow(values, equations)
        return [key for key in sorted(checked | guarded, key=str) if values[key] in MARKERS
                and (key in guarded or is_small(exact[key])) and ranges[key][0] == ranges[key][1]]

    given = set(pinned_in({key: WITHHELD if key in hideable else value for key, value in written.items()}))
    written = dict(written)
    for _round in range(len(hideable) + 1):
        pinned = [key for key in pinned_in(written) if key not in given]
        if not pinned:
            return written
        own = [[total, *parts] for total, parts in equations if pinned[0] == total or pinned[0] in parts]
        for keys in [*own, [key for total, parts in equations for key in (total, *parts)]]:
            visible = sorted((exact[key], str(key), key) for key in keys
                             if key in hideable and written[key] not in MARKERS and exact[key] > 0)
            if visible:
                written[visible[0][2]] = AT_LEAST
                break
        else:
            break
    return {key: WITHHELD if key in hideable else value for key, value in written.items()}


def written_pathway(pathway: Pathway, tracks: Mapping[int, Sequence[tuple[int, Shown]]] | None = None
                    ) -> dict[str, Any]:
    """The funnel's figures as governance may read them: {"trained", "recognised", "levels": [{"level",
    "holding", "moved_in"}]} (moved_in None for the first level), each count of people under the rule.
    `tracks`: per level, its tracks' trained totals (exact, as written in the track views, where a
    reader may read them: governance.disclosure.Family). A level's holders are its tracks' holders less
    those holding several of them, assumed known (the safe side, as in Family): the funnel then never
    writes a level so that it gives away a track total hidden there, and works around those shown."""
    total = shown(pathway.trained)
    levels = pathway.levels
    if total in MARKERS:  # fewer than 5 people trained: any figure of theirs would bound the rest
        return {"trained": total, "recognised": WITHHELD,
                "levels": [{"level": level.level, "holding": WITHHELD,
                            "moved_in": None if level.level == 1 else WITHHELD} for level in levels]}
    exact: dict[Hashable, int] = {"trained": pathway.trained, "recognised": pathway.recognised,
                                  "not recognised": pathway.trained - pathway.recognised}
    written: dict[Hashable, Shown] = {"trained": total, "recognised": shown(pathway.recognised),
                                      "not recognised": WITHHELD}
    hideable: set[Hashable] = {"recognised"}
    checked: set[Hashable] = {"recognised", "not recognised"}
    equations: list[tuple[Hashable, list[Hashable]]] = [("trained", ["recognised", "not recognised"])]
    for level in levels:
        n = level.level
        exact[("holding", n)] = level.holding
        exact[("not holding", n)] = pathway.trained - level.holding
        written[("holding", n)] = shown(level.holding)
        # With one level, everybody trained holds it: the reader knows nobody is outside it.
        written[("not holding", n)] = 0 if len(levels) == 1 else WITHHELD
        hideable.add(("holding", n))
        checked |= {("holding", n), ("not holding", n)}
        equations.append(("trained", [("holding", n), ("not holding", n)]))
        if n == 1:
            continue
        moved, still = level.moved_in, level.moved_holding
        exact.update({("moved", n): moved, ("still", n): still, ("lost", n): moved - still,
                      ("earlier", n): level.holding - still})
        written.update({("moved", n): shown(moved), ("still", n): WITHHELD,
                        ("lost", n): 0 if moved == still else WITHHELD, ("earlier", n): WITHHELD})
        hideable.add(("moved", n))
        checked |= {("moved", n), ("still", n), ("lost", n), ("earlier", n)}
        equations += [(("moved", n), [("still", n), ("lost", n)]), (("holding", n), [("still", n), ("earlier", n)])]
    guarded: set[Hashable] = set()
    for n, totals in (tracks or {}).items():
        if not totals or ("holding", n) not in exact:
            continue
        for index, (track_exact, track_written) in enumerate(totals):
            exact[("track", n, index)], written[("track", n, index)] = track_exact, track_written
            if track_written in MARKERS:
                guarded.add(("track", n, index))
        exact[("tracks", n)] = sum(track_exact for track_exact, _ in totals)
        exact[("several", n)] = exact[("tracks", n)] - exact[("holding", n)]
        written.update({("tracks", n): WITHHELD, ("several", n): exact[("several", n)]})
        equations += [(("tracks", n), [("track", n, index) for index in range(len(totals))]),
                      (("tracks", n), [("holding", n), ("several", n)])]
    if len(levels) > 1:
        # Everybody trained holds a level: the levels add up to the trained total and the overlaps.
        exact["levels"] = sum(level.holding for level in levels)
        exact["overlaps"] = exact["levels"] - pathway.trained
        written.update({"levels": WITHHELD, "overlaps": WITHHELD})
        equations += [("levels", [("holding", level.level) for level in levels]), ("levels", ["trained", "overlaps"])]
    result = _protect(exact, written, hideable, checked, equations, guarded)
    return {"trained": total, "recognised": result["recognised"],
            "levels": [{"level": level.level, "holding": result[("holding", level.level)],
                        "moved_in": None if level.level == 1 else result[("moved", level.level)]}
                       for level in levels]}


def exact_pathway(pathway: Pathway) -> dict[str, Any]:
    """The same shape with exact counts, for admins."""
    return {"trained": pathway.trained, "recognised": pathway.recognised,
            "levels": [{"level": level.level, "holding": level.holding,
                        "moved_in": None if level.level == 1 else level.moved_in} for level in pathway.levels]}
