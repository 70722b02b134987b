"""Browser tests: Playwright drives Debian's Chromium against the real app served on a live port.

Nothing is downloaded: the tests use /usr/bin/chromium (`.ci/run` installs Debian's `chromium` package when
it is missing). Without it, or without the playwright module, every test here is skipped and says why.

Playwright is imported once, by tests/browser/test_browser_flows.py (its `Page` and `expect` come from
there): without it, that module and every module importing from it are skipped.

Each test gets a live server on 127.0.0.1 (a free port: tests/conftest.py's `live_url`) serving the `app`
fixture's application, so it talks to the same test database as the test itself: the server thread handles each request in its own
app context and session, which works with SQLite files and PostgreSQL alike. Commit before driving the
browser, and roll back before reading what the browser wrote.

Screenshots go to test-output/screenshots/<database>-<flow>-<language>.png (gitignored) for a person to
look at.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from common.extensions import db

CHROMIUM = os.environ.get("KAFAA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "browser tests need the playwright module: `make dev-setup` installs it from requirements-dev.txt"
    if not os.access(CHROMIUM, os.X_OK):
        return (f"browser tests need Chromium at {CHROMIUM}: install Debian's `chromium` package "
                "(.ci/run does it when it can)")
    return None


SKIP_REASON = _unavailable()


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by these marks
def pytest_collection_modifyitems(config, items):
    """Every test here is marked `browser` and `multiprocess` (a live server answers the browser). They run
    on SQLite only: they check what a person sees and does, which the database does
    not change, and every route they drive is also tested over HTTP on PostgreSQL. Run on both, they were
    a fifth of the suite's time. Without Chromium, every browser test is skipped and says why (a skip
    raised while pytest loads a conftest would abort the whole run instead)."""
    here = Path(__file__).resolve().parent
    mine = [item for item in items if here in Path(item.path).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.multiprocess)
    on_server = [item for item in mine
                 if getattr(item, "callspec", None) and item.callspec.params.get("database_url") == "postgresql"]
    if on_server:
        config.hook.pytest_deselected(items=on_server)
        dropped = set(on_server)
        items[:] = [item for item in items if item not in dropped]
    if SKIP_REASON is None:
        return
    for item in mine:
        item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
MOBILE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
          "has_touch": True,
          "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Chrome/156.0.0.0 Mobile Safari/537.36"}


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module (launching costs about a second). Not per session: while Playwright's sync
    API is started it keeps an asyncio loop running on this thread, so asyncio.run() (pyHanko signing a
    PDF) would fail here; other test modules must not run under it."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # a broken Chromium install: say so rather than fail every test
        playwright.stop()
        pytest.skip(f"Chromium at {CHROMIUM} would not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_page(browser, request):
    """Pages in fresh browser contexts (no shared cookies), all closed at the end of the test.
    Pass mobile=True for a 375 × 812 phone, locale for the browser's Accept-Language."""
    contexts = []

    def make(*, mobile: bool = False, locale: str = "fr-MA"):
        options = dict(MOBILE) if mobile else {"viewport": {"width": 1280, "height": 900}}
        context = browser.new_context(locale=locale, accept_downloads=True, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


_taken: list[Path] = []


def pytest_terminal_summary(terminalreporter):
    if _taken:
        where = SCREENSHOTS.relative_to(Path.cwd()) if SCREENSHOTS.is_relative_to(Path.cwd()) else SCREENSHOTS
        terminalreporter.write_line(f"Browser screenshots ({len(_taken)}): {where}/")


@pytest.fixture
def screenshot(app):
    """Save a full-page PNG as test-output/screenshots/<database>-<flow>-<language>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    database = db.engine.dialect.name

    def shoot(page, flow: str, lang: str) -> Path:
        path = SCREENSHOTS / f"{database}-{flow}-{lang}.png"
        page.screenshot(path=str(path), full_page=True)
        _taken.append(path)
        return path
    return shoot


# axe-core, from npm (tests/browser/package.json, installed by `make test` when npm is there).
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")


@pytest.fixture
def axe():
    """check(page, where): run axe-core on the page as it is now; fail on any serious or critical
    violation. Without axe-core (npm missing), the test is skipped and says why."""
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE}: `make test` installs it with npm "
                    "(npm was missing, or `npm ci --prefix tests/browser` failed)")

    def check(page, where: str) -> None:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol: the page's Content-Security-Policy (script-src 'self')
            # would refuse a <script> tag added to it, and must stay as it is for the test to mean anything.
            page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        blocking = [f"{v['impact']} {v['id']}: {v['help']} — "
                    + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
                    for v in results["violations"] if v["impact"] in AXE_BLOCKING]
        assert not blocking, f"axe-core on {where}:\n" + "\n".join(blocking)
    return check
