"""The pathway funnel for governance: levels from the prerequisite graph, people holding each level and
moving up in a quarter, people trained through recognition, and the small-count rule over all of it
(a brute-force reader who knows the funnel's sums tries to work out every hidden small count)."""
from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from common import clock
from common.extensions import db
from governance import queries
from governance.disclosure import AT_LEAST, SMALL, WITHHELD, bounds
from governance.figures import Figures, Pathway, PathwayLevel
from governance.funnel import written_pathway
from governance.rules import Quarter
from skills.rules import pathway_levels
from tests.helpers import create_certificate_row

Q3, Q4 = Quarter(2026, 3), Quarter(2026, 4)
TODAY = date(2026, 11, 15)  # in Q4, which is running: its figures are taken today


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def certify(app):
    return create_certificate_row


def requires(track, *required):
    """Give a track prerequisites the way the API and the track form do."""
    from skills import operations

    operations.update_track(None, track, {"code": track.code, "title": {"fr": "a", "ar": "ب", "en": "c"},
                                          "modules": [m.code for m in track.modules],
                                          "requires": [t.code for t in required]})
    db.session.commit()


@pytest.fixture
def registry(today, admin, make_track, make_trainee, certify):
    """Foundations F (level 1), a sector track S requiring F (level 2), an expert track X requiring S
    (level 3), and SIDE, which does not count toward the target.

    p1-p3: F in Q3, S in Q4 (p1's S recognises a module); p2 also X in Q4. p4: F and S in Q3 (S
    recognised). p5: F only. p6: F, then purged. p7: F from 2025, expired 31 October, then S in Q4.
    p8: F revoked on 1 November. p9: only an S revoked in Q4. p10: F reissued in Q4 (the first kept, as
    replaced). p11: S in Q4 without ever holding F. p12: SIDE, recognised (not counted)."""
    from skills import operations

    f, s, x = make_track(code="F"), make_track(code="S"), make_track(code="X")
    side = make_track(code="SIDE")
    operations.update_track(admin, side, {"code": "SIDE", "title": {"fr": "a", "ar": "ب", "en": "c"},
                                          "modules": [m.code for m in side.modules], "counts_toward_target": False})
    db.session.commit()
    requires(s, f)
    requires(x, s)
    p = {n: make_trainee() for n in range(1, 13)}
    aug, q4 = date(2026, 8, 1), date(2026, 10, 10)
    for n in (1, 2, 3, 4, 5, 6):
        certify(p[n], f, aug)
    certify(p[1], s, q4, recognised=[s.modules[0].code])
    certify(p[2], s, q4)
    certify(p[3], s, q4)
    certify(p[2], x, date(2026, 11, 1))
    certify(p[4], s, date(2026, 9, 15), recognised=[m.code for m in s.modules])
    certify(p[7], f, date(2025, 1, 1), expires_on=date(2026, 10, 31))
    certify(p[7], s, date(2026, 10, 5))
    certify(p[8], f, aug, revoked_at=datetime(2026, 11, 1, 10, tzinfo=timezone.utc))
    certify(p[9], s, date(2026, 10, 20), revoked_at=datetime(2026, 11, 10, 10, tzinfo=timezone.utc))
    certify(p[10], f, date(2026, 7, 1), superseded_at=datetime(2026, 10, 2, 9, tzinfo=timezone.utc))
    certify(p[10], f, date(2026, 10, 2))
    certify(p[11], s, q4)
    certify(p[12], side, aug, recognised=[side.modules[0].code])
    from maintenance.retention import _anonymise_people
    _anonymise_people([p[6].id], datetime(2031, 1, 1, tzinfo=timezone.utc))
    db.session.commit()
    return {"F": f, "S": s, "X": x, "SIDE": side, "people": p}


# --- levels --------------------------------------------------------------------------------------------

def test_levels_of_a_graph():
    assert pathway_levels({}) == {}
    assert pathway_levels({"A": []}) == {"A": 1}
    assert pathway_levels({"A": [], "B": ["A"], "C": ["B"]}) == {"A": 1, "B": 2, "C": 3}
    # A diamond: D requires B and C (both on A) and A itself: its longest branch gives its level.
    diamond = pathway_levels({"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C", "A"], "E": ["D", "A"]})
    assert diamond == {"A": 1, "B": 2, "C": 2, "D": 3, "E": 4}
    assert pathway_levels({"B": ["A"]}) == {"B": 2, "A": 1}  # a required track missing from the keys


def test_a_cycle_is_refused_not_looped():
    for graph in ({"A": ["A"]}, {"A": ["B"], "B": ["A"]}, {"A": [], "B": ["A", "D"], "C": ["B"], "D": ["C"]}):
        with pytest.raises(ValueError):
            pathway_levels(graph)


def test_a_long_chain_needs_no_recursion():
    chain = {n: [n - 1] if n else [] for n in range(5000)}
    assert pathway_levels(chain)[4999] == 5000


def test_levels_from_the_database(registry, make_track):
    a, b, c, d = (make_track(code=code) for code in ("DA", "DB", "DC", "DD"))
    requires(b, a)
    requires(c, a)
    requires(d, b, c)
    levels = queries.track_levels()
    assert [levels[t.id] for t in (a, b, c, d)] == [1, 2, 2, 3]
    assert [levels[registry[k].id] for k in ("F", "S", "X", "SIDE")] == [1, 2, 3, 1]


# --- the funnel ----------------------------------------------------------------------------------------

def test_funnel_of_the_running_quarter(registry):
    funnel = queries.pathway_funnel(Q4)
    assert funnel.trained == 9  # p1-p7, p10, p11 (p6 purged still counts; p8, p9 revoked; p12 not counting)
    assert funnel.trained == db.session.scalar(
        db.select(db.func.count()).select_from(queries.trained_people(queries.as_of_day(Q4)).subquery()))
    assert funnel.recognised == 2  # p1 and p4; p12's track does not count
    assert funnel.levels == (
        PathwayLevel(level=1, tracks=("F",), holding=7),  # p1-p6, p10 (p7 expired, p8 revoked)
        # p1, p2, p3, p7 moved up (p7 had held F); p11 never held F; p9's S was revoked
        PathwayLevel(level=2, tracks=("S",), holding=6, moved_in=4, moved_holding=4),
        PathwayLevel(level=3, tracks=("X",), holding=1, moved_in=1, moved_holding=1),
    )


def test_funnel_of_a_past_quarter(registry):
    funnel = queries.pathway_funnel(Q3)  # as of 30 September: p8 not revoked yet, p7 not expired
    assert funnel.trained == 9 and funnel.recognised == 1
    assert [(lv.holding, lv.moved_in) for lv in funnel.levels] == [(9, 0), (1, 1), (0, 0)]
    assert queries.pathway_funnel(Quarter(2026, 2)).levels[0].holding == 1  # p7, since 2025


def test_a_move_that_lost_its_level_counts_as_a_move(registry, make_trainee, certify):
    person = make_trainee()
    certify(person, registry["F"], date(2026, 8, 1))
    certify(person, registry["S"], date(2026, 10, 1), expires_on=date(2026, 11, 1))
    level = queries.pathway_funnel(Q4).levels[1]
    assert (level.moved_in, level.moved_holding, level.holding) == (5, 4, 6)


def test_no_counting_track_means_no_funnel(app, today):
    assert queries.pathway_funnel(Q4) == Pathway(trained=0, recognised=0, levels=())


# --- the API -------------------------------------------------------------------------------------------

def test_admin_sees_exact_figures(registry, client, admin, token_for):
    answer = client.get("/api/v1/stats/pathway?quarter=2026-Q4", headers=token_for(admin))
    assert answer.status_code == 200
    assert answer.json == {
        "quarter": "2026-Q4", "as_of": "2026-11-15", "closed": False, "trained": 9, "recognised": 2,
        "levels": [{"level": 1, "tracks": ["F"], "holding": 7, "moved_in": None},
                   {"level": 2, "tracks": ["S"], "holding": 6, "moved_in": 4},
                   {"level": 3, "tracks": ["X"], "holding": 1, "moved_in": 1}]}


def test_governance_sees_the_rule(registry, client, make_user, token_for):
    headers = token_for(make_user("governance"))
    answer = client.get("/api/v1/stats/pathway?quarter=2026-Q4", headers=headers)
    assert answer.status_code == 200
    # 9 trained, 2 recognised ("<5"); 4 moved into S, 1 into X and 1 holding X are small.
    assert answer.json["trained"] == 9 and answer.json["recognised"] == SMALL
    levels = [(lv["holding"], lv["moved_in"]) for lv in answer.json["levels"]]
    # The track views write F's 7 exactly (so the funnel may), S's 6 as "5+" (so the funnel must hide it).
    tracks = [client.get(f"/api/v1/stats/progress?quarter=2026-Q4&track={code}", headers=headers).json["trained"]
              for code in "FSX"]
    assert tracks == [7, AT_LEAST, SMALL]
    assert levels == [(7, None), (AT_LEAST, SMALL), (SMALL, SMALL)]
    assert answer.json["closed"] is False


def test_only_admin_and_governance(registry, client, make_user, token_for):
    for role in ("trainer", "trainee"):
        headers = token_for(make_user(role))
        assert client.get("/api/v1/stats/pathway", headers=headers).status_code == 403
    assert client.get("/api/v1/stats/pathway").status_code == 401


def test_a_bad_quarter_is_a_422(registry, client, make_user, token_for):
    headers = {**token_for(make_user("governance")), "Accept-Language": "ar"}
    for quarter in ("Q4", "2026-Q5", "2031-Q1", ""):
        answer = client.get(f"/api/v1/stats/pathway?quarter={quarter}", headers=headers)
        if quarter == "":
            assert answer.status_code == 200  # no quarter: the current one
            continue
        assert answer.status_code == 422, quarter
        assert answer.mimetype == "application/problem+json"
        assert "quarter" in answer.json["errors"]


def test_a_closed_quarter_answers_with_its_snapshot(registry, client, admin, make_trainee, certify, token_for):
    from governance import operations

    operations.close_quarter(admin, Q3)
    db.session.commit()
    late = make_trainee()  # a certificate dated in Q3 but written after the quarter closed
    certify(late, registry["F"], date(2026, 9, 1))
    headers = token_for(admin)
    answer = client.get("/api/v1/stats/pathway?quarter=2026-Q3", headers=headers).json
    assert answer["closed"] is True and answer["levels"][0]["holding"] == 9
    assert queries.pathway_funnel(Q3).levels[0].holding == 10


def test_a_snapshot_closed_before_the_funnel_still_reads(registry, client, admin, token_for):
    from governance.models import QuarterSnapshot

    old = queries.full_figures(Q3).to_json()
    del old["pathway"]
    db.session.add(QuarterSnapshot(quarter="2026-Q3", figures=old))
    db.session.commit()
    assert Figures.from_json(old).pathway is None
    answer = client.get("/api/v1/stats/pathway?quarter=2026-Q3", headers=token_for(admin)).json
    assert answer["closed"] is False and answer["levels"][0]["holding"] == 9  # computed live
    assert client.get("/api/v1/stats/progress?quarter=2026-Q3", headers=token_for(admin)).json["closed"] is True


def test_snapshot_round_trip(registry):
    figures = queries.full_figures(Q4)
    assert figures.pathway == queries.pathway_funnel(Q4)
    assert Figures.from_json(figures.to_json()) == figures


# --- the small-count rule ------------------------------------------------------------------------------

def _range(value, cap):
    low, high = bounds(value)
    return range(int(low), int(min(high, cap)) + 1)


def attack(written: dict, pathway: Pathway) -> list[str]:
    """A reader who knows how the rule writes counts and every sum of the funnel (docs/rules.md), and
    also that each trained person holds at least one level and, when no mover lost their level within
    the quarter, that none did (a right guess): every assignment of counts consistent with what is written, by
    brute force. Returns the counts from 1 to 4 (shown hidden or never shown) that all such assignments
    agree on."""
    leaks = []
    total = written["trained"]
    if not isinstance(total, int):
        # fewer than 5 trained: every funnel figure must be withheld
        return [] if all(level["holding"] == WITHHELD for level in written["levels"]) \
            and written["recognised"] == WITHHELD else ["withheld"]
    t = total
    recognised = [r for r in _range(written["recognised"], t)]
    if len(recognised) == 1 and 1 <= recognised[0] <= 4 and written["recognised"] != recognised[0]:
        leaks.append("recognised")
    if len({t - r for r in recognised}) == 1 and 1 <= t - recognised[0] <= 4:
        leaks.append("not recognised")
    options = []  # per level: the feasible (holding, moved, still, earlier) tuples
    for level, shown_level in zip(pathway.levels, written["levels"]):
        lost = level.moved_in - level.moved_holding
        losts = [0] if lost == 0 else range(0, t + 5)
        feasible = []
        for holding in _range(shown_level["holding"], t):
            if level.level == 1:
                feasible.append((holding, None, None, None, None))
                continue
            for moved in _range(shown_level["moved_in"], 2 * t + 5):
                for guess in losts:
                    still = moved - guess
                    if 0 <= still <= holding:
                        feasible.append((holding, moved, still, holding - still, guess))
        options.append(feasible)
    if len(pathway.levels) == 1:
        options[0] = [o for o in options[0] if o[0] == t]
    # Everybody trained holds at least one level: only the holdings tie the levels together.
    holdings = [sorted({o[0] for o in feasible}) for feasible in options]
    possible = [set() for _ in holdings]
    for combo in itertools.product(*holdings):
        if sum(combo) >= t:
            for index, holding in enumerate(combo):
                possible[index].add(holding)
    for index, level in enumerate(pathway.levels):
        kept = [o for o in options[index] if o[0] in possible[index]]
        seen = {name: {o[k] for o in kept} for k, name in enumerate(("holding", "moved", "still", "earlier", "lost"))}
        seen["not holding"] = {t - h for h in seen["holding"]}
        truth = {"holding": level.holding, "moved": level.moved_in, "still": level.moved_holding,
                 "earlier": level.holding - level.moved_holding, "not holding": t - level.holding,
                 "lost": level.moved_in - level.moved_holding}
        for name, values in seen.items():
            if level.level == 1 and name in ("moved", "still", "earlier", "lost"):
                continue
            assert truth[name] in values, (name, values)  # the reader's model is true of the registry
            shown_exactly = (name == "holding" and isinstance(written["levels"][index]["holding"], int)) or (
                name == "moved" and isinstance(written["levels"][index]["moved_in"], int))
            if len(values) == 1 and 1 <= truth[name] <= 4 and not shown_exactly:
                leaks.append(f"{name} {level.level}")
    return leaks


@st.composite
def funnels(draw):
    trained = draw(st.integers(0, 14))
    count = draw(st.integers(1, 3))
    levels = []
    for n in range(1, count + 1):
        holding = trained if count == 1 else draw(st.integers(0, trained))
        if n == 1:
            levels.append(PathwayLevel(level=1, tracks=("A",), holding=holding))
            continue
        still = draw(st.integers(0, holding))
        lost = draw(st.sampled_from([0, 0, 0, 1, 2]))
        levels.append(PathwayLevel(level=n, tracks=(chr(64 + n),), holding=holding, moved_in=still + lost,
                                   moved_holding=still))
    if count > 1 and trained and sum(level.holding for level in levels) < trained:
        levels[0] = PathwayLevel(level=1, tracks=("A",), holding=trained)  # each trained person holds a level
    return Pathway(trained=trained, recognised=draw(st.integers(0, trained)), levels=tuple(levels))


@settings(max_examples=1000, deadline=None)
@given(funnels())
def test_no_small_count_can_be_worked_out(pathway):
    written = written_pathway(pathway)
    assert attack(written, pathway) == []
    # what is written exactly is true, and markers only where the rule puts them
    for level, shown_level in zip(pathway.levels, written["levels"]):
        for value, true in ((shown_level["holding"], level.holding), (shown_level["moved_in"], level.moved_in)):
            if isinstance(value, int):
                assert value == true and not 1 <= value <= 4
            elif value == SMALL:
                assert 1 <= true <= 4
            elif value == AT_LEAST:
                assert true >= 5


def test_subtraction_examples():
    """Hand-built cases of what the rule hides and why."""
    def funnel(trained, recognised, *levels):
        return Pathway(trained=trained, recognised=recognised, levels=tuple(
            PathwayLevel(level=n, tracks=(), holding=h, moved_in=m, moved_holding=s)
            for n, (h, m, s) in enumerate(levels, start=1)))
    # 12 trained, 10 of them through recognition: 2 were not, so the 10 is hidden.
    assert written_pathway(funnel(12, 10, (12, 0, 0)))["recognised"] == AT_LEAST
    assert written_pathway(funnel(12, 3, (12, 0, 0)))["recognised"] == SMALL
    assert written_pathway(funnel(12, 7, (12, 0, 0)))["recognised"] == 7
    # Every holder of level 2 moved up this quarter: 8 holding = 8 moved, nothing small behind.
    shown = written_pathway(funnel(20, 0, (20, 0, 0), (8, 8, 8)))["levels"][1]
    assert (shown["holding"], shown["moved_in"]) == (8, 8)
    # 9 hold level 2, 6 moved in this quarter: the other 3 held it before, so one of the two is hidden.
    shown = written_pathway(funnel(20, 0, (20, 0, 0), (9, 6, 6)))["levels"][1]
    assert AT_LEAST in (shown["holding"], shown["moved_in"])
    # A level's only track is hidden in the track views: the level may not give it away...
    two = funnel(20, 0, (20, 0, 0), (9, 9, 9))
    assert written_pathway(two)["levels"][1]["holding"] == 9
    assert written_pathway(two, {2: [(9, AT_LEAST)]})["levels"][1]["holding"] == AT_LEAST
    # ...and one the track views show exactly is no secret: 12 hold F, 3 of 15 trained do not.
    three = funnel(15, 0, (12, 0, 0), (9, 9, 9))
    assert written_pathway(three)["levels"][0]["holding"] == AT_LEAST
    assert written_pathway(three, {1: [(12, 12)]})["levels"][0]["holding"] == 12
    # Fewer than 5 trained: the whole funnel is withheld.
    written = written_pathway(funnel(3, 1, (3, 0, 0), (1, 1, 1)))
    assert written["trained"] == SMALL and written["recognised"] == WITHHELD
    assert {level["holding"] for level in written["levels"]} == {WITHHELD}


# --- the dashboard ---------------------------------------------------------------------------------------

def _pathway_section(html: str) -> str:
    start = html.index('class="card pathway"')
    return html[start:html.index("</section>", start)]


def test_dashboard_pathway_section(registry, admin, make_user, login):
    client = login(make_user("governance"))
    for language, title, recognised in (("fr", "Parcours en <bdi>2026-Q4</bdi>", "Formés grâce à la reconnaissance"),
                                        ("ar", "المسار في <bdi>2026-Q4</bdi>", "المكوَّنون عبر الاعتراف"),
                                        ("en", "Pathway in <bdi>2026-Q4</bdi>", "Trained through recognition")):
        html = client.get("/dashboard?quarter=2026-Q4", headers={"Accept-Language": language}).get_data(as_text=True)
        section = _pathway_section(html)
        assert title in section and recognised in section
        # governance: written counts, isolated left to right
        assert '<bdi dir="ltr">&lt;5</bdi>' in section and '<bdi dir="ltr">5+</bdi>' in section
        assert '<bdi dir="ltr">6</bdi>' not in section  # the 6 holding S are hidden, as in the track view
    admin_html = login(admin).get("/dashboard?quarter=2026-Q4").get_data(as_text=True)
    section = _pathway_section(admin_html)
    assert '<bdi dir="ltr">6</bdi>' in section and '<bdi dir="ltr">2</bdi> sur <bdi dir="ltr">9</bdi>' in section
    assert "&lt;5" not in section
    # A filtered view is not the whole programme's: the funnel is left out.
    assert 'class="card pathway"' not in login(admin).get("/dashboard?sector=health").get_data(as_text=True)


def test_dashboard_says_when_a_closed_quarter_has_no_frozen_funnel(registry, admin, login):
    from governance.models import QuarterSnapshot

    old = queries.full_figures(Q3).to_json()
    del old["pathway"]
    db.session.add(QuarterSnapshot(quarter="2026-Q3", figures=old))
    db.session.commit()
    html = login(admin).get("/dashboard?quarter=2026-Q3", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "closed before the pathway was counted" in _pathway_section(html)


# --- the quarterly report ------------------------------------------------------------------------------

def test_report_prints_the_funnel_under_the_rule(registry, tmp_path):
    import pypdfium2 as pdfium
    from openpyxl import load_workbook

    from governance.report import write_quarterly_report

    pdf, xlsx = write_quarterly_report(queries.full_figures(Q4), None, [], tmp_path)
    ws = load_workbook(xlsx)["Parcours"]
    assert [ws.cell(row=r, column=1).value for r in (1, 2)] == ["Parcours", "المسار"]
    levels = [[ws.cell(row=r, column=c).value for c in range(1, 5)] for r in range(6, 9)]
    assert levels == [[1, "F", AT_LEAST, None], [2, "S", AT_LEAST, SMALL], [3, "X", SMALL, SMALL]]
    assert (ws.cell(row=12, column=1).value, ws.cell(row=12, column=3).value) == (
        "Formés grâce à la reconnaissance des acquis", SMALL)
    document = pdfium.PdfDocument(pdf.read_bytes())
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Parcours" in text and "Formés grâce à la reconnaissance des acquis" in text


def test_report_of_a_snapshot_without_funnel(registry, tmp_path):
    from openpyxl import load_workbook

    from governance.report import write_quarterly_report

    old = queries.full_figures(Q3).to_json()
    del old["pathway"]
    _pdf, xlsx = write_quarterly_report(old, None, [], tmp_path)
    assert "Parcours" not in load_workbook(xlsx).sheetnames
