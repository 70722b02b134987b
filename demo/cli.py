"""`flask --app app demo`: a realistic programme to explore, built through the same operations as the app."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import click
import sqlalchemy as sa

from accounts import operations as accounts
from accounts.models import User
from certificates.bulk import issue_for_cohort
from certificates.models import Certificate
from common.clock import MOROCCO
from common.extensions import db
from skills import operations
from skills.models import Cohort, Enrollment, Trainee

DEMO_PASSWORD = "kafaa-demo-2026"
DEMO_ACCOUNTS = {  # email: role; the README lists these
    "admin@kafaa.ma": "admin",
    "trainer@kafaa.ma": "trainer",
    "governance@kafaa.ma": "governance",
    "trainee@kafaa.ma": "trainee",
}

FIRST_NAMES = [("Youssef", "يوسف"), ("Fatima Zahra", "فاطمة الزهراء"), ("Mohamed", "محمد"), ("Khadija", "خديجة"),
               ("Amine", "أمين"), ("Salma", "سلمى"), ("Hamza", "حمزة"), ("Imane", "إيمان"), ("Omar", "عمر"),
               ("Nadia", "نادية"), ("Ayoub", "أيوب"), ("Meryem", "مريم"), ("Karim", "كريم"), ("Souad", "سعاد"),
               ("Rachid", "رشيد"), ("Hajar", "هاجر"), ("Mehdi", "مهدي"), ("Zineb", "زينب"), ("Anas", "أنس"),
               ("Loubna", "لبنى"), ("Said", "سعيد"), ("Asmae", "أسماء"), ("Othmane", "عثمان"), ("Ikram", "إكرام")]
FAMILY_NAMES = [("El Amrani", "العمراني"), ("Benali", "بنعلي"), ("Alaoui", "العلوي"), ("Bennani", "بناني"),
                ("Tazi", "التازي"), ("El Idrissi", "الإدريسي"), ("Berrada", "برادة"), ("Chraibi", "الشرايبي"),
                ("Lahlou", "لحلو"), ("Ouazzani", "الوزاني"), ("Amazigh", "أمازيغ"), ("Boukhari", "البخاري"),
                ("Naciri", "الناصري"), ("Fassi", "الفاسي"), ("Hakimi", "حكيمي"), ("Ait Taleb", "آيت الطالب")]
TIFINAGH = {"Youssef": "ⵢⵓⵙⴼ", "Mohamed": "ⵎⵓⵃⵎⵎⴷ", "Said": "ⵙⵄⵉⴷ", "Omar": "ⵄⵓⵎⴰⵔ", "Nadia": "ⵏⴰⴷⵢⴰ"}
EMPLOYERS = {"health": "Ministère de la Santé", "education": "Ministère de l'Éducation nationale",
             "justice": "Ministère de la Justice", "agriculture": "Ministère de l'Agriculture",
             "administration": "Ministère de la Transition numérique"}

MODULES = [
    ("AIR-101", "Fondements du raisonnement", "أسس الاستدلال", "Foundations of reasoning", 12),
    ("AIR-102", "Logique et preuves", "المنطق والبراهين", "Logic and proofs", 10),
    ("AIR-201", "Raisonnement probabiliste", "الاستدلال الاحتمالي", "Probabilistic reasoning", 14),
    ("AIR-202", "Modèles de langage et raisonnement", "النماذج اللغوية والاستدلال", "Language models and reasoning", 16),
    ("AIR-301", "Éthique et loi 09-08", "الأخلاقيات والقانون 09-08", "Ethics and law 09-08", 6),
    ("AIR-302", "Sécurité des systèmes d'IA", "أمن أنظمة الذكاء الاصطناعي", "Security of AI systems", 8),
    ("AIR-401", "IA pour le secteur public", "الذكاء الاصطناعي للقطاع العام", "AI for the public sector", 10),
    ("AIR-402", "Projet appliqué", "مشروع تطبيقي", "Applied project", 20),
]
# The pathway's two levels: the foundations, then a sector track requiring their certificate. The Tifinagh titles
# (title_zgh) are printed on the certificates between the Arabic and the French.
TRACKS = [  # code, fr, ar, en, zgh, modules, validity in months, requires
    ("RAI-FOUND", "Raisonnement IA — fondamentaux", "الاستدلال بالذكاء الاصطناعي — الأساسيات",
     "AI reasoning — foundations", "ⵉⵙⵓⵔⵙ ⵏ ⵜⵎⵓⵙⵏⵉ", ["AIR-101", "AIR-102", "AIR-201", "AIR-301"], 24, []),
    ("RAI-PUBLIC", "IA raisonnée pour l'administration", "الذكاء الاصطناعي المنطقي للإدارة",
     "Reasoned AI for government", "ⵜⴰⵎⵓⵙⵏⵉ ⵉ ⵜⵏⴱⴰⴹⵜ", ["AIR-202", "AIR-302", "AIR-401", "AIR-402"], None,
     ["RAI-FOUND"]),
]
COHORTS = [  # code, track, sector, region, language
    ("SANTE-RABAT-01", "RAI-FOUND", "health", "rabat-sale-kenitra", "fr"),
    ("EDU-FES-01", "RAI-FOUND", "education", "fes-meknes", "ar"),
    ("JUST-CASA-01", "RAI-PUBLIC", "justice", "casablanca-settat", "fr"),
    ("AGRI-SOUSS-01", "RAI-FOUND", "agriculture", "souss-massa", "zgh"),
    ("ADM-ORIENT-01", "RAI-PUBLIC", "administration", "oriental", "ary"),
    ("ADM-DRAA-01", "RAI-PUBLIC", "administration", "draa-tafilalet", "ar"),
]


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already holds cohorts.")
@click.option("--seed", default=2026, show_default=True)
def demo_command(if_empty: bool, seed: int) -> None:
    """Load a realistic demo: a two-level pathway (2 tracks, 8 modules), 6 cohorts, about 150 trainees, attendance,
    results, certificates of the first level and a few recognitions of prior learning."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)):
        if if_empty:
            click.echo("Demo data already loaded.")
            return
        raise click.ClickException("The database already holds data; the demo loads into an empty one.")
    load_demo(random.Random(seed))
    db.session.commit()
    click.echo("Demo loaded. Accounts (password %s): %s" % (DEMO_PASSWORD, ", ".join(DEMO_ACCOUNTS)))


def load_demo(rng: random.Random) -> None:
    admin = accounts.create_user(None, "admin@kafaa.ma", "admin", password=DEMO_PASSWORD)
    trainers = [accounts.create_user(admin, "trainer@kafaa.ma", "trainer", password=DEMO_PASSWORD)]
    trainers += [accounts.create_user(admin, f"formateur{i}@kafaa.ma", "trainer", password=DEMO_PASSWORD)
                 for i in range(2, 4)]
    accounts.create_user(admin, "governance@kafaa.ma", "governance", password=DEMO_PASSWORD)
    for code, fr, ar, en, hours in MODULES:
        operations.create_module(admin, {"code": code, "title": {"fr": fr, "ar": ar, "en": en}, "hours": hours})
    for code, fr, ar, en, zgh, modules, validity, requires in TRACKS:
        operations.create_track(admin, {"code": code, "title": {"fr": fr, "ar": ar, "en": en, "zgh": zgh},
                                        "modules": modules, "validity_months": validity, "requires": requires})
    today = datetime.now(MOROCCO).date()
    trainee_no = 0
    holders: list[int] = []  # the foundations' certificate holders, once the first cohort is certified
    for index, (code, track, sector, region, language) in enumerate(COHORTS):
        starts = today - timedelta(days=70 - 12 * index)
        cohort = operations.create_cohort(admin, {
            "code": code, "track": track, "sector": sector, "region": region, "language": language,
            "starts_on": starts, "ends_on": starts + timedelta(days=90),
            "trainers": [trainers[index % len(trainers)].email]})
        ids = []
        for _ in range(rng.randint(22, 28)):
            trainee_no += 1
            ids.append(_demo_trainee(admin, rng, trainee_no, sector, region).id)
        ids += holders[LEVEL_2_FROM_FOUNDATIONS.get(code, slice(0))]
        operations.enrol_trainees(admin, cohort, ids)
        _demo_sessions(admin, rng, cohort, ids, starts, today)
        if index == 0:
            # The first cohort's modules are over: its eligible trainees hold the foundations' certificate, and
            # some go on to level 2 in later cohorts (the demo trainee among them).
            issue_for_cohort(admin, cohort)
            holders = list(db.session.scalars(sa.select(Certificate.trainee_id).order_by(Certificate.id)))
    holder = holders[0] if holders else db.session.scalar(
        sa.select(Enrollment.trainee_id).order_by(Enrollment.id).limit(1))
    accounts.create_user(admin, "trainee@kafaa.ma", "trainee", password=DEMO_PASSWORD, trainee_id=holder)
    _demo_recognitions(admin, holders)


# Level 2 cohorts that take in holders of the foundations' certificate, besides newcomers (who may earn the
# foundations during the cohort: their enrolment is flagged): cohort code -> which holders.
LEVEL_2_FROM_FOUNDATIONS = {"JUST-CASA-01": slice(3, 5), "ADM-DRAA-01": slice(0, 3)}

# Prior learning recognised by the programme: (which foundations holder, module, reason, evidence).
RECOGNITIONS = [
    (0, "AIR-302", "Certificat en sécurité des systèmes d'information", "ENSIAS, promotion 2024"),
    (3, "AIR-402", "Projet de transformation numérique mené au ministère", "Attestation du secrétaire général"),
    (5, "AIR-401", "Mémoire de master appliqué à l'administration", "Université Mohammed V, 2023"),
]


def _demo_recognitions(admin: User, holders: list[int]) -> None:
    for which, module, reason, evidence in RECOGNITIONS:
        if which < len(holders):
            operations.recognise_module(admin, db.session.get(Trainee, holders[which]),
                                        {"module": module, "reason": reason, "evidence": evidence})


def _demo_trainee(admin: User, rng: random.Random, number: int, sector: str, region: str):
    first, first_ar = rng.choice(FIRST_NAMES)
    family, family_ar = rng.choice(FAMILY_NAMES)
    category = rng.choices(["engineer", "researcher", "official"], weights=[4, 2, 5])[0]
    return operations.create_trainee(admin, {
        "name": f"{first} {family}", "name_ar": f"{first_ar} {family_ar}",
        "name_tfng": TIFINAGH.get(first) if rng.random() < 0.5 else None,
        "email": f"{first.split()[0].lower()}.{family.replace(' ', '').lower()}.{number}@exemple.ma",
        "category": category, "sector": sector, "region": region, "gender": rng.choice(["f", "m", "f", "m", None]),
        "employer": EMPLOYERS.get(sector, "Université Mohammed V") if category != "researcher" else "Université Mohammed V",
    })


def _demo_sessions(admin: User, rng: random.Random, cohort, trainee_ids: list[int], starts: date, today: date) -> None:
    """Two sessions per module, a week apart; attendance taken for those already held, results for
    modules whose sessions are all over. Most trainees attend well; a few fall below the minimum."""
    weak = set(rng.sample(trainee_ids, k=3))
    day = starts
    for module in cohort.track.modules:
        held = []
        for _ in range(2):
            session = operations.plan_session(admin, cohort, {
                "module": module.code, "starts_at": datetime.combine(day, time(9, 30), MOROCCO), "hours": 3})
            if day < today:
                held.append(session)
                records = [{"trainee_id": t, "status": rng.choices(
                    ["present", "late", "excused", "absent"],
                    weights=[50, 10, 10, 30] if t in weak else [85, 8, 4, 3])[0]} for t in trainee_ids]
                operations.record_attendance(admin, session, records)
            day += timedelta(days=7)
        if len(held) == 2:
            scores = {t: rng.randint(35, 98) if t in weak else rng.randint(55, 99) for t in trainee_ids}
            operations.record_results(admin, cohort, [
                {"trainee_id": t, "module": module.code, "passed": score >= 60, "score": score}
                for t, score in scores.items()])
