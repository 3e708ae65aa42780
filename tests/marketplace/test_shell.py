"""Bilingual shell: language switch, error pages, health check, home page."""


def test_home_is_chinese_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in html
    assert "五大重点支持方向" in html


def test_language_switch_to_english_and_back(client):
    r = client.get("/lang/en?next=/offers/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/offers/")
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html and "Five key support directions" in html
    client.get("/lang/zh")
    assert "五大重点支持方向" in client.get("/").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirect(client):
    r = client.get("/lang/en?next=//evil.example.com/x")
    assert "evil" not in r.headers["Location"]


def test_404_page_in_both_languages(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)
    client.get("/lang/en")
    assert "Page not found" in client.get("/no-such-page").get_data(as_text=True)


def test_403_400_500_pages(tmp_path):
    from flask import abort

    from marketplace import create_app
    app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.sqlite'}",
                                           "PROPAGATE_TEST_ERRORS": False})

    @app.route("/_test/abort/<int:code>")
    def _abort(code):
        if code == 500:
            raise RuntimeError("boom")
        abort(code)

    client = app.test_client()
    assert "没有权限" in client.get("/_test/abort/403").get_data(as_text=True)
    assert client.get("/_test/abort/400").status_code == 400
    r = client.get("/_test/abort/500")
    assert r.status_code == 500 and "服务器" in r.get_data(as_text=True)
    client.get("/lang/en")
    assert "Access denied" in client.get("/_test/abort/403").get_data(as_text=True)


def test_healthz_reports_database_and_search(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["database"]["ok"] is True
    assert "search" in body and body["search"]["ok"] is True


def test_bootstrap_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    assert "cdn.jsdelivr" not in html and "/bootstrap/static/" in html
    import re
    path = re.search(r'(/bootstrap/static/[^"]+\.css)', html).group(1)
    assert client.get(path).status_code == 200
