"""Sessions and configuration hardening: revocable server-side sessions, log-in timing, neutral registration,
mail headers, the public health check, the language switch and common passwords."""
from __future__ import annotations

import email
import time
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import Notification, User, UserSession
from tests.conftest import TEST_PASSWORD, login

NEW_PASSWORD = "a-fresh-passphrase-77"


def _remember_login(client, address: str):
    return client.post("/login", data={"email": address, "password": TEST_PASSWORD, "remember": "y"})


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def _with_cookie(app, name: str, value: str):
    """A fresh browser holding only a copy of one cookie (a stolen or left-behind cookie)."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def _signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


# --- sessions: revoked at log-out, rotating, remember-me at most 30 days ----------------------------------

def test_a_copied_session_cookie_stops_working_after_log_out(app, client, make):
    make.user("leave@example.com")
    assert login(client, "leave@example.com").status_code == 302
    copied = _cookie(client, "session")
    assert _signed_in(_with_cookie(app, "session", copied))
    client.post("/logout")
    assert not _signed_in(_with_cookie(app, "session", copied))


def test_remember_cookie_is_new_at_every_log_in_dies_at_log_out_and_lasts_30_days(app, make):
    make.user("remember@example.com")
    first, second = app.test_client(), app.test_client()
    response = _remember_login(first, "remember@example.com")
    _remember_login(second, "remember@example.com")
    one, two = _cookie(first, "remember_token"), _cookie(second, "remember_token")
    assert one and two and one != two
    assert not one.startswith(("1|", "2|", "3|")) or len(one.split("|")[0]) > 20  # never the user id
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
    assert expires - datetime.now(timezone.utc) <= timedelta(days=30, minutes=1)
    assert _signed_in(_with_cookie(app, "remember_token", one))  # the remember cookie alone signs in
    first.post("/logout")
    assert not _signed_in(_with_cookie(app, "remember_token", one))
    assert _signed_in(_with_cookie(app, "remember_token", two))  # the other browser stays signed in


def test_the_remember_duration_comes_from_config(app, make):
    make.user("short@example.com")
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=2)
    try:
        client = app.test_client()
        response = _remember_login(client, "short@example.com")
        header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
        expires = parsedate_to_datetime(header.split("Expires=")[1].split(";")[0])
        assert expires - datetime.now(timezone.utc) <= timedelta(days=2, minutes=1)
        with app.app_context():  # the server-side session ends with it too
            db.session.execute(update(UserSession).values(
                created_at=datetime.now(timezone.utc) - timedelta(days=2, minutes=1)))
            db.session.commit()
        assert not _signed_in(client)
    finally:
        app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=30)


def test_a_cookie_carrying_a_user_id_is_not_a_session(app, make):
    user_id = make.user("oldcookie@example.com")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
    assert not _signed_in(client)


def test_sessions_are_stored_hashed_with_browser_and_address(app, make):
    make.user("rows@example.com")
    client = app.test_client()
    client.post("/login", data={"email": "rows@example.com", "password": TEST_PASSWORD},
                headers={"User-Agent": "TestBrowser/1.0"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    with client.session_transaction() as session:
        carried = session["_user_id"]
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        assert row.user_agent == "TestBrowser/1.0" and row.remote_addr == "10.1.2.3" and row.revoked_at is None
        assert carried not in row.token_hash and len(row.token_hash) == 64


def test_last_seen_is_written_at_most_once_a_minute(app, client, make):
    make.user("seen@example.com")
    login(client, "seen@example.com")
    with app.app_context():
        first = db.session.scalar(select(UserSession.last_seen_at))
    client.get("/account/")
    with app.app_context():
        assert db.session.scalar(select(UserSession.last_seen_at)) == first
        db.session.execute(update(UserSession).values(last_seen_at=datetime.now(timezone.utc) - timedelta(minutes=2)))
        db.session.commit()
    client.get("/account/")
    with app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at))
        seen = seen if seen.tzinfo else seen.replace(tzinfo=timezone.utc)
        assert datetime.now(timezone.utc) - seen < timedelta(seconds=30)


def test_password_change_ends_every_other_session(app, make):
    make.user("change@example.com")
    here, elsewhere = app.test_client(), app.test_client()
    _remember_login(here, "change@example.com")
    _remember_login(elsewhere, "change@example.com")
    remembered = _cookie(elsewhere, "remember_token")
    wrong = here.post("/account/password", data={"current_password": "not-my-password-1",
                                                 "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and _signed_in(elsewhere)
    response = here.post("/account/password", data={"current_password": TEST_PASSWORD, "password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    assert not _signed_in(_with_cookie(app, "remember_token", remembered))
    fresh = app.test_client()
    assert login(fresh, "change@example.com", NEW_PASSWORD).status_code == 302


def test_where_you_are_signed_in_lists_and_ends_sessions(app, make):
    make.user("devices@example.com")
    make.user("stranger@example.com")
    phone, laptop, desk = app.test_client(), app.test_client(), app.test_client()
    for client, agent in ((phone, "PhoneBrowser/2"), (laptop, "LaptopBrowser/3"), (desk, "DeskBrowser/4")):
        client.environ_base["HTTP_USER_AGENT"] = agent  # each browser keeps its own (sessions are "strong")
        login(client, "devices@example.com")
    page = laptop.get("/account/security")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "PhoneBrowser/2" in html and "DeskBrowser/4" in html
    with app.app_context():
        ids = {row.user_agent: row.id for row in db.session.scalars(select(UserSession))}
    stranger = app.test_client()
    login(stranger, "stranger@example.com")
    assert stranger.post(f"/account/sessions/{ids['PhoneBrowser/2']}/revoke").status_code == 404
    assert _signed_in(phone)
    laptop.post(f"/account/sessions/{ids['PhoneBrowser/2']}/revoke")
    assert not _signed_in(phone) and _signed_in(desk)
    laptop.post("/account/sessions/revoke-others")
    assert not _signed_in(desk) and _signed_in(laptop)
    laptop.post(f"/account/sessions/{ids['LaptopBrowser/3']}/revoke")
    assert not _signed_in(laptop)


def test_session_forms_need_a_csrf_token(csrf_app, make):
    make.user("csrfsess@example.com")
    client = csrf_app.test_client()
    from tests.conftest import csrf_token_from
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": "csrfsess@example.com", "password": TEST_PASSWORD, "csrf_token": token})
    assert client.post("/account/sessions/revoke-others").status_code == 400
    assert client.post("/account/password", data={"current_password": TEST_PASSWORD, "password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}).status_code == 400
    html = client.get("/account/security").get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 3  # password, one session, log-out


def test_api_tokens_are_not_sessions(app, client, make):
    make.user("api@example.com")
    login(client, "api@example.com")
    client.post("/account/tokens", data={"name": "ci", "scope": "read"})
    with app.app_context():
        from marketplace.models import ApiToken
        assert db.session.scalar(select(ApiToken.revoked_at)) is None
    client.post("/logout")
    with app.app_context():
        from marketplace.models import ApiToken
        assert db.session.scalar(select(ApiToken.revoked_at)) is None


# --- log-in timing, registration of a known address ---------------------------------------------------

def test_log_in_for_an_unknown_address_takes_as_long_as_a_wrong_password(app, make, monkeypatch):
    from werkzeug.security import generate_password_hash

    from marketplace.services import accounts
    user_id = make.user("timing@example.com")
    with app.app_context():  # a real account's hash (the factory's are cheap to keep the suite fast)
        db.session.get(User, user_id).password_hash = generate_password_hash(TEST_PASSWORD)
        db.session.commit()
    hashed = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: hashed.append(h) or real(h, p))
    client = app.test_client()
    login(client, "nobody-here@example.com", "wrong-password-123")
    login(client, "timing@example.com", "wrong-password-123")
    assert len(hashed) == 2  # one password hash checked either way, with the same method and cost
    assert hashed[0].split("$")[0] == hashed[1].split("$")[0]
    timings = []
    for address in ("nobody-else@example.com", "timing@example.com") * 2:
        started = time.perf_counter()
        login(client, address, "wrong-password-123")
        timings.append(time.perf_counter() - started)
    unknown, known = min(timings[0::2]), min(timings[1::2])
    assert unknown > known / 3  # was ~10x faster


def test_registering_a_known_address_answers_neutrally_and_tells_the_owner(app, client, make):
    owner_id = make.user("taken@example.com")
    data = {"display_name": "冒充者", "email": "taken@example.com", "password": "a-long-passphrase-42",
            "confirm": "a-long-passphrase-42"}
    response = client.post("/register", data=data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "已存在" not in html and "already exists" not in html
    assert "taken@example.com" in html  # "we sent a message to …": the same words for any address
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 1
        note = db.session.scalar(select(Notification).where(Notification.user_id == owner_id))
        assert note.kind == "security" and note.message_key == "registration_attempt"
    client.post("/register", data=data)  # once a day at most
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Notification.id))) == 1


# --- mail headers ---------------------------------------------------------------------------------------

def test_line_breaks_cannot_add_mail_headers(app, tmp_path):
    from marketplace import mail
    app.config["MAIL_FOLDER"] = str(tmp_path)
    try:
        with app.app_context():
            path = mail.send("to@example.com", "New introduction: Evil Org\r\nBcc: victim@example.com\nX-Injected: 1",
                             "body")
    finally:
        app.config["MAIL_FOLDER"] = None
    message = email.message_from_bytes(path.read_bytes())
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "Evil Org" in str(email.header.make_header(email.header.decode_header(message["Subject"])))


def test_a_subject_with_line_breaks_is_still_sent_over_smtp(app, monkeypatch):
    """Flask-Mail refuses (BadHeaderError) to send such a message: the notification would never arrive."""
    from marketplace import mail
    sent = []
    monkeypatch.setattr(mail.mail, "send", sent.append)
    app.config["MAIL_SERVER"] = "smtp.example.com"
    try:
        with app.app_context():
            mail.send("to@example.com\r\nBcc: v@example.com", "Org\r\nBcc: victim@example.com", "body")
    finally:
        app.config["MAIL_SERVER"] = None
    assert not sent[0].has_bad_headers() and sent[0].subject == "Org Bcc: victim@example.com"
    assert mail.header_safe("a\u2028b\x85c") == "a b c"


# --- /healthz: ok or degraded for anyone, details for operators -------------------------------------------

def test_healthz_tells_anonymous_callers_only_ok_or_degraded(app, client, make):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": {"ok": True}, "search": {"ok": True}}
    _user_id, email_address = make.staff("operator")
    member = app.test_client()
    make.user("plain-member@example.com")
    login(member, "plain-member@example.com")
    assert member.get("/healthz").get_json() == body  # members are not operators
    operator = app.test_client()
    login(operator, email_address)
    details = operator.get("/healthz").get_json()
    assert details["database"]["dialect"] in ("sqlite", "postgresql")
    assert details["search"]["backend"] and "pending" in details["search"]  # the outbox backlog


def test_healthz_says_degraded_without_details(app, client, monkeypatch):
    from marketplace import search_index

    class Broken:
        def health(self):
            return {"ok": False, "backend": "meilisearch", "url": "http://10.0.0.5:7700", "error": "refused"}

    monkeypatch.setattr(search_index, "backend", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "degraded", "database": {"ok": True}, "search": {"ok": False}}
    assert "10.0.0.5" not in response.get_data(as_text=True)


# --- the language switch: stored only on POST ---------------------------------------------------------------

def test_a_get_of_the_language_switch_changes_nothing_stored(app, client, make):
    user_id = make.user("lang@example.com")
    login(client, "lang@example.com")
    response = client.get("/lang/en?next=/account/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    assert 'lang="en"' in client.get("/account/").get_data(as_text=True)  # the session shows English
    with app.app_context():
        assert db.session.get(User, user_id).locale in (None, "zh")
    client.post("/lang/en")
    with app.app_context():
        assert db.session.get(User, user_id).locale == "en"


def test_the_language_switch_is_a_form_with_a_csrf_token(csrf_app, make):
    client = csrf_app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'id="lang-switch"' in html
    form = html[html.rindex("<form", 0, html.index('id="lang-switch"')):html.index('id="lang-switch"')]
    assert 'method="post"' in form and 'name="csrf_token"' in form and "/lang/en" in form
    assert client.post("/lang/en").status_code == 400  # no token


# --- common passwords -------------------------------------------------------------------------------------

@pytest.mark.parametrize("password, email_address", [
    ("password1234", "a@example.com"), ("qwerty!2024#99", "b@example.com"),
    ("123456789012", "c@example.com"), ("zhangsanfeng", "zhangsanfeng@example.com"),
    ("zhangsanfeng2024", "zhangsanfeng@example.com"),
])
def test_common_and_guessable_passwords_are_refused(client, app, password, email_address):
    data = {"display_name": "某人", "email": email_address, "password": password, "confirm": password}
    response = client.post("/register", data=data)
    assert response.status_code == 400, password
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_the_common_password_message_is_translated(client):
    data = {"display_name": "某人", "email": "p@example.com", "password": "password1234", "confirm": "password1234"}
    assert "常见" in client.post("/register", data=data).get_data(as_text=True)
    client.get("/lang/en")
    assert "most common passwords" in client.post("/register", data=data).get_data(as_text=True)


def test_a_password_change_to_a_common_password_is_refused(client, make):
    make.user("weak@example.com")
    login(client, "weak@example.com")
    response = client.post("/account/password", data={"current_password": TEST_PASSWORD,
                                                      "password": "password1234", "confirm": "password1234"})
    assert response.status_code == 400 and _signed_in(client)
