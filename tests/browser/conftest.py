"""Browser-test infrastructure: a live TechBridge server and headless Chromium through Playwright.

* ``live_server`` (session scope) runs a SEPARATE app with CSRF protection on, served by werkzeug on
  127.0.0.1 and a free port in a daemon thread. Its database is its own: a temporary SQLite file, or,
  when ``DATABASE_URL`` is set (PostgreSQL in CI), a throwaway database ``browser_<random>`` created on
  that server and dropped (``WITH (FORCE)``) at the end -- the main suite's ``app`` fixture empties the
  tables of ``DATABASE_URL`` after every test, so the two must never share a database.
* ``browser`` (session scope) is Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).
  Without it the browser tests are skipped, except under ``CI=true`` where they fail.
* ``page`` is a fresh browser context per test; ``new_page()`` opens further independent contexts
  (another person at another computer) that are closed after the test.
* ``live_server.user(...)``, ``.member(...)``, ``.offer(...)`` create data directly in the live app's
  database (committed, then the search relay is dispatched so the index is current).

Tests in this directory never request the main suite's ``app`` fixture, so its table cleaning never runs
for them; they keep their data apart by using unique names.
"""
from __future__ import annotations

import itertools
import os
import re
import secrets
import threading
from dataclasses import dataclass, field

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_TIMEOUT_MS = 10_000
PASSWORD = "browser-journey-pass-42"
IN_CI = os.environ.get("CI") == "true"


def chromium_unavailable_reason() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is not installed"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


# --- the live server ----------------------------------------------------------------------------------

_counter = itertools.count(1)


def unique(prefix: str = "") -> str:
    """A short unique token of lower-case letters (safe as a search word in every backend)."""
    letters = "abcdefghijkmnpqrstuvwxyz"
    return prefix + "".join(secrets.choice(letters) for _ in range(8))


def valid_uscc() -> str:
    """A random unified social credit code with a correct check character."""
    from marketplace.identifiers import USCC_ALPHABET, uscc_check_character
    body = "12110108" + "".join(secrets.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


@dataclass
class LiveServer:
    url: str
    app: object
    password: str = PASSWORD
    _hash: str = field(default="", repr=False)

    unique = staticmethod(unique)
    valid_uscc = staticmethod(valid_uscc)

    def _commit(self) -> None:
        from marketplace import jobs
        from marketplace.extensions import db
        db.session.commit()
        jobs.dispatch_pending(db.session)  # the search relay: the index sees the new rows at once

    def _password_hash(self) -> str:
        if not self._hash:
            from werkzeug.security import generate_password_hash
            self._hash = generate_password_hash(self.password, method="pbkdf2:sha256:1000")
        return self._hash

    def org(self, kind: str = "firm", name_zh: str | None = None, name_en: str | None = None) -> int:
        from marketplace.extensions import db
        from marketplace.models import Organization
        n = next(_counter)
        with self.app.app_context():
            org = Organization(kind=kind, name_zh=name_zh or f"浏览器测试机构{n}{unique()}",
                               name_en=name_en or f"Browser test org {n}", uscc=valid_uscc())
            db.session.add(org)
            self._commit()
            return org.id

    def user(self, email: str | None = None, roles: tuple[str, ...] = (), org_id: int | None = None,
             display_name: str | None = None) -> str:
        """A user with platform ``roles`` (e.g. ``("operator",)``), optionally owner of ``org_id``; returns the e-mail."""
        from marketplace.extensions import db
        from marketplace.models import Membership, User, UserRole
        n = next(_counter)
        email = email or f"{unique('u')}{n}@example.com"
        with self.app.app_context():
            user = User(email=email, display_name=display_name or f"测试用户{n}", password_hash=self._password_hash())
            db.session.add(user)
            for role in roles:
                user.roles.append(UserRole(role=role))
            if org_id:
                db.session.add(Membership(user=user, organization_id=org_id, role="owner"))
            self._commit()
        return email

    def member(self, kind: str = "firm") -> tuple[int, str]:
        """A new organisation of ``kind`` with one owner; returns (org id, e-mail)."""
        org_id = self.org(kind)
        return org_id, self.user(org_id=org_id)

    def offer(self, org_id: int, title_zh: str, title_en: str, kind: str = "product", status: str = "published",
              field_codes: tuple[str, ...] = ("D1.ivd",), **kw) -> int:
        from datetime import UTC, datetime

        from marketplace.extensions import db
        from marketplace.models import Field, Offer
        with self.app.app_context():
            offer = Offer(organization_id=org_id, kind=kind, status=status, title_zh=title_zh, title_en=title_en,
                          summary_zh=kw.pop("summary_zh", "浏览器测试摘要"), summary_en=kw.pop("summary_en", "Summary"),
                          **kw)
            if status == "submitted":
                offer.submitted_at = datetime.now(UTC)
            if status == "published":
                offer.published_at = datetime.now(UTC)
            offer.fields = [db.session.query(Field).filter_by(code=c).one() for c in field_codes]
            db.session.add(offer)
            self._commit()
            return offer.id


def _postgres_database(base_url: str):
    """Create a throwaway database next to ``base_url``; returns (its URL, a function dropping it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from marketplace.config import normalise_database_url
    server_url = make_url(normalise_database_url(base_url))
    name = f"browser_{secrets.token_hex(6)}"
    admin = create_engine(server_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        admin.dispose()
        raise

    def drop() -> None:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    return server_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from werkzeug.serving import make_server

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.reference.taxonomy import load_taxonomy

    tmp = tmp_path_factory.mktemp("browser")
    drop_database = None
    base_url = os.environ.get("DATABASE_URL")
    if base_url and not base_url.startswith("sqlite"):
        database_url, drop_database = _postgres_database(base_url)
    else:
        database_url = f"sqlite:///{tmp / 'browser.sqlite'}"
    try:
        app = create_app("testing", overrides={
            "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True, "INSTANCE_DIR": str(tmp),
            # the embedded search backend on this database, jobs in-process (as the main suite does)
            "MEILI_URL": None, "REDIS_URL": None,
        })
        with app.app_context():
            db.create_all()
            load_taxonomy(db.session)
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="browser-live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        if drop_database is not None:
            drop_database()


# --- the browser --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    reason = chromium_unavailable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import expect, sync_playwright
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_page(browser, live_server, request, tmp_path_factory):
    """Open a page in a fresh browser context (its own cookies); all are closed after the test.

    On a failure each open page's screenshot and HTML are saved and their paths printed.
    """
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        from playwright.sync_api import Error as PlaywrightError
        out = tmp_path_factory.mktemp("browser-failure")
        for i, context in enumerate(contexts):
            for j, pg in enumerate(context.pages):
                try:
                    pg.screenshot(path=str(out / f"page{i}-{j}.png"), full_page=True)
                    (out / f"page{i}-{j}.html").write_text(f"<!-- {pg.url} -->\n" + pg.content(), encoding="utf-8")
                except PlaywrightError as exc:  # the page may be gone; the artefacts are a courtesy
                    print(f"could not save {pg.url}: {exc}")
        print(f"\nbrowser artefacts for {request.node.nodeid}: {out}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# --- added for the brokering and events journeys --------------------------------------------------------
# More data helpers on the live server, and ``steps``: the small browser steps the journeys share.

def _patent_number() -> str:
    """A random, valid Chinese patent application number (unique enough within one session)."""
    from marketplace.identifiers import patent_check_character
    digits = f"2021{secrets.choice('123')}" + "".join(secrets.choice("0123456789") for _ in range(7))
    return f"{digits}.{patent_check_character(digits)}"


def _user_id(self, email: str) -> int:
    from sqlalchemy import select

    from marketplace.extensions import db
    from marketplace.models import User
    with self.app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _need(self, org_id: int, title_zh: str, title_en: str, kind: str = "procurement", status: str = "open",
          field_codes: tuple[str, ...] = ("D1.ivd",), **kw) -> int:
    from decimal import Decimal

    from marketplace.extensions import db
    from marketplace.models import Field, Need
    with self.app.app_context():
        need = Need(organization_id=org_id, kind=kind, status=status, title_zh=title_zh, title_en=title_en,
                    description_zh=kw.pop("description_zh", title_zh), description_en=kw.pop("description_en", title_en),
                    budget_max_rmb=kw.pop("budget_max_rmb", Decimal(500000)), **kw)
        need.fields = [db.session.query(Field).filter_by(code=c).one() for c in field_codes]
        db.session.add(need)
        self._commit()
        return need.id


def _patent(self, org_id: int, title_zh: str, title_en: str, curation_stage: str = "high_value",
            field_codes: tuple[str, ...] = ("D1.ivd",), **kw) -> int:
    """A published patent offer with its PatentDetail at ``curation_stage``."""
    from datetime import UTC, date, datetime

    from marketplace.extensions import db
    from marketplace.models import Field, Offer, PatentDetail
    with self.app.app_context():
        offer = Offer(organization_id=org_id, kind="patent", status="published", title_zh=title_zh,
                      title_en=title_en, summary_zh=kw.pop("summary_zh", title_zh),
                      summary_en=kw.pop("summary_en", title_en), published_at=datetime.now(UTC), **kw)
        offer.fields = [db.session.query(Field).filter_by(code=c).one() for c in field_codes]
        offer.patent = PatentDetail(application_number=_patent_number(), legal_status="granted",
                                    filing_date=date(2020, 1, 1), claims_count=10, citations=5,
                                    value_score=0.9, curation_stage=curation_stage)
        db.session.add(offer)
        self._commit()
        return offer.id


def _rebuild_matches(self) -> dict:
    """Compute the match suggestions in the live app (what the job runner would do)."""
    from marketplace.tasks import matching
    with self.app.app_context():
        return matching.rebuild()


LiveServer.user_id = _user_id
LiveServer.need = _need
LiveServer.patent = _patent
LiveServer.rebuild_matches = _rebuild_matches


class BrowserSteps:
    """Texts from the app's catalogue and the steps every journey repeats (log in, read a flash)."""

    def __init__(self, live_server: LiveServer):
        self.live_server = live_server

    def t(self, msgid: str, lang: str = "zh", **variables) -> str:
        """``msgid`` as the live app shows it in ``lang``."""
        from flask_babel import force_locale, gettext
        with self.live_server.app.test_request_context("/"), force_locale(lang):
            return gettext(msgid, **variables)

    def rmb(self, amount, lang: str = "zh") -> str:
        from flask_babel import force_locale

        from marketplace.i18n import format_rmb
        with self.live_server.app.test_request_context("/"), force_locale(lang):
            return format_rmb(amount)

    @staticmethod
    def flash(page, category: str = "success"):
        return page.locator(f"#main > .alert.alert-{category}")

    @staticmethod
    def open_menu(page) -> None:
        """On a narrow screen the nav's links sit behind the menu button: open it (nothing to do when wide)."""
        from playwright.sync_api import expect
        page.wait_for_load_state("load")  # the menu button works once Bootstrap's script has run
        toggler = page.locator("nav .navbar-toggler")
        # Decided by the viewport, not by the button's visibility: before the stylesheet applies, the button of
        # a wide page shows for a moment (the menu collapses below Bootstrap's lg breakpoint, 992 px).
        if (page.viewport_size or {}).get("width", 1366) < 992 and toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
            expect(page.locator("nav #nav")).to_have_class(re.compile(r"\bshow\b"))

    def log_in(self, page, email: str, password: str | None = None) -> None:
        """Log in through the nav's login link and form (opening the menu on a phone); ends on the account page."""
        from playwright.sync_api import expect
        page.goto("/")
        self.open_menu(page)
        page.locator('nav a[href="/login"]').click()
        expect(page).to_have_url(re.compile(r"/login$"))
        page.locator("#email").fill(email)
        page.locator("#password").fill(password or self.live_server.password)
        page.locator("#login-submit").click()
        expect(page).to_have_url(re.compile(r"/account/$"))
        expect(self.flash(page)).to_contain_text(self.t("You are logged in."))


@pytest.fixture
def steps(live_server):
    return BrowserSteps(live_server)
