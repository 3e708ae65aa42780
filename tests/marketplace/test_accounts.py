"""Registration, login, throttling and logout through the test client."""
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import LoginAttempt, Organization, User
from tests.conftest import TEST_PASSWORD, csrf_token_from, login
from tests.factories import valid_uscc

GOOD = {"display_name": "王医生", "email": "wang@hospital.example.cn", "password": "a-long-passphrase-42",
        "confirm": "a-long-passphrase-42"}


def test_register_creates_user_and_organisation_and_logs_in(client, app):
    data = dict(GOOD, org_kind="hospital", org_name_zh="示范医院", org_name_en="Demo Hospital",
                org_uscc=valid_uscc(991))
    response = client.post("/register", data=data)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "wang@hospital.example.cn"))
        assert user is not None and user.password_hash != GOOD["password"]
        assert [m.organization.name_zh for m in user.memberships] == ["示范医院"]
    assert "示范医院".encode() in client.get("/account/").data


def test_short_password_is_refused_in_chinese_and_nothing_saved(client, app):
    response = client.post("/register", data=dict(GOOD, password="short", confirm="short"))
    assert response.status_code == 400
    assert "至少" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_short_password_message_in_english(client):
    client.get("/lang/en")
    response = client.post("/register", data=dict(GOOD, password="short", confirm="short"))
    assert response.status_code == 400
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_bad_credit_code_saves_neither_user_nor_organisation(client, app):
    bad = valid_uscc(5)[:-1] + ("0" if valid_uscc(5)[-1] != "0" else "1")
    response = client.post("/register", data=dict(GOOD, org_kind="firm", org_name_zh="某公司", org_uscc=bad))
    assert response.status_code == 400
    assert "统一社会信用代码" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None
        assert db.session.scalar(select(Organization)) is None


def test_duplicate_email_is_refused(client, make, app):
    make.user("dup@example.com")
    response = client.post("/register", data=dict(GOOD, email="dup@example.com"))
    # neutral: no second account, no log-in, and nothing saying the address is registered
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/account/").status_code == 302
    with app.app_context():
        assert db.session.query(User).filter_by(email="dup@example.com").count() == 1


def test_login_and_logout(client, make):
    make.user("login@example.com")
    assert login(client, "login@example.com").status_code == 302
    assert client.get("/account/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/account/").status_code == 302  # back to login


def test_wrong_password_then_lockout(client, make, app):
    make.user("victim@example.com")
    for _ in range(4):
        assert login(client, "victim@example.com", "wrong-password-123").status_code == 401
    response = login(client, "victim@example.com", "wrong-password-123")
    assert response.status_code == 429
    # even the right password is refused while locked
    response = login(client, "victim@example.com", TEST_PASSWORD)
    assert response.status_code == 429
    assert "锁定" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(LoginAttempt).filter_by(email="victim@example.com", succeeded=False).count() == 5


def test_unknown_email_gets_same_message_as_wrong_password(client, make):
    make.user("known@example.com")
    a = login(client, "known@example.com", "wrong-password-123").get_data(as_text=True)
    b = login(client, "nobody@example.com", "wrong-password-123").get_data(as_text=True)
    assert ("邮箱或密码错误" in a) and ("邮箱或密码错误" in b)


def test_login_next_is_open_redirect_safe(client, make):
    make.user("next@example.com")
    r = client.post("/login?next=https://evil.example.com/", data={"email": "next@example.com",
                                                                   "password": TEST_PASSWORD})
    assert r.status_code == 302 and "evil" not in r.headers["Location"]
    client.post("/logout")
    r = client.post("/login?next=/offers/", data={"email": "next@example.com", "password": TEST_PASSWORD})
    assert r.headers["Location"].endswith("/offers/")


def test_forms_require_csrf_token(csrf_app, make):
    client = csrf_app.test_client()
    make.user("csrf@example.com")
    r = client.post("/login", data={"email": "csrf@example.com", "password": TEST_PASSWORD})
    assert r.status_code == 400
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"email": "csrf@example.com", "password": TEST_PASSWORD, "csrf_token": token})
    assert r.status_code == 302
