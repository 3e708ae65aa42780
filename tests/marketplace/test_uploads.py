"""Uploads (issue 7): logos and attachments limited in size and type (checked from the content), stored outside
the static folder under generated names, served as downloads with nosniff after the same access checks as the
item (protected details of teaser items included), and written to the audit log."""
from __future__ import annotations

import hashlib
import io
import re
import zipfile
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditEntry, DetailAccessLog, Membership, Offer, StoredFile
from marketplace.services import uploads
from marketplace.settings import current_settings
from tests.conftest import csrf_token_from, login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def _ooxml(main_part: str, content_type: str, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", f'<Types><Override PartName="/{main_part}" ContentType="{content_type}"/>'
                                          "</Types>")
        z.writestr(main_part, "<xml/>")
        for name, body in (extra or {}).items():
            z.writestr(name, body)
    return buffer.getvalue()


DOCX = _ooxml("word/document.xml", WORD)
XLSX = _ooxml("xl/workbook.xml", SHEET)
DOCM = _ooxml("word/document.xml", WORD, {"word/vbaProject.bin": "macro"})
PLAIN_ZIP = _ooxml("readme.txt", "text/plain")


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _post_file(client, url, data: bytes, name: str, **extra):
    return client.post(url, data={"file": (io.BytesIO(data), name), **extra}, content_type="multipart/form-data")


def _files(app) -> list[dict]:
    with app.app_context():
        return [{c.key: getattr(f, c.key) for c in StoredFile.__table__.columns}
                for f in db.session.scalars(select(StoredFile).order_by(StoredFile.id))]


def _folder(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"])


def _on_disk(app) -> set[str]:
    folder = _folder(app)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.fixture(autouse=True)
def _empty_folder(app):
    """Each test starts and ends with an empty upload folder (rows are cleaned by conftest; other test modules
    may leave files behind)."""
    for path in _folder(app).glob("*"):
        path.unlink()
    yield
    for path in _folder(app).glob("*"):
        path.unlink()


@pytest.fixture
def world(app, make):
    org, owner_id, owner_email = make.member("firm")
    other_org, _, other_email = make.member("hospital")
    draft = make.offer(org, status="draft")
    published = make.offer(org)
    need = make.need(org)
    _, operator_email = make.staff("operator")
    return {"org": org, "owner_id": owner_id, "other_org": other_org, "draft": draft, "published": published,
            "need": need, "owner": _as(app, owner_email), "other": _as(app, other_email),
            "operator": _as(app, operator_email)}


# --- storing ---------------------------------------------------------------------------------------------

def test_attachment_is_stored_outside_static_under_a_generated_name(app, world):
    r = _post_file(world["owner"], f"/files/offer/{world['draft']}/attachments", PDF, "../../报价单 v2.pdf")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/offers/{world['draft']}#attachments")
    [stored] = _files(app)
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", stored["storage_name"])
    assert stored["original_name"] == "报价单 v2.pdf"  # no path, Chinese kept
    assert stored["content_type"] == "application/pdf" and stored["size"] == len(PDF)
    assert stored["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (stored["purpose"], stored["offer_id"], stored["organization_id"]) == ("attachment", world["draft"],
                                                                                 world["org"])
    path = _folder(app) / stored["storage_name"]
    assert path.read_bytes() == PDF and _on_disk(app) == {stored["storage_name"]}
    static = Path(app.static_folder).resolve()
    assert static not in path.resolve().parents
    assert Path(app.config["INSTANCE_DIR"]).resolve() in path.resolve().parents
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "upload"))
        assert (entry.object_type, entry.object_id, entry.actor_id) == ("offer", world["draft"], world["owner_id"])
        assert entry.details["change"] == "added" and entry.details["file_id"] == stored["id"]


@pytest.mark.parametrize("data,name,content_type", [
    (PNG, "图.png", "image/png"), (JPEG, "photo.JPG", "image/jpeg"), (DOCX, "方案.docx", WORD[:-9]),
    (XLSX, "prices.xlsx", SHEET[:-9]), (PDF, "no-extension", "application/pdf"),
])
def test_accepted_attachment_types(app, world, data, name, content_type):
    assert _post_file(world["owner"], f"/files/need/{world['need']}/attachments", data, name).status_code == 302
    [stored] = _files(app)
    assert stored["content_type"] == content_type and stored["need_id"] == world["need"]
    assert stored["original_name"] == (name if "." in name else name + ".pdf")


@pytest.mark.parametrize("data,name,message", [
    (HTML, "logo.png", "This file type is not accepted. Allowed: PDF, PNG, JPEG, Word (DOCX), Excel (XLSX)."),
    (HTML, "page.html", "This file type is not accepted."),
    (b"GIF89a" + bytes(20), "anim.gif", "This file type is not accepted."),
    (DOCM, "macro.docx", "This file type is not accepted."),
    (PLAIN_ZIP, "archive.docx", "This file type is not accepted."),
    (PNG, "report.pdf", "The file's content (PNG) does not match its name ending in .pdf."),
    (b"", "empty.pdf", "The file is empty."),
])
def test_refused_attachments_keep_nothing_and_say_why(app, world, data, name, message):
    client = world["owner"]
    client.get("/lang/en")
    r = _post_file(client, f"/files/offer/{world['draft']}/attachments", data, name)
    assert r.status_code == 400
    html = unescape(r.get_data(as_text=True))
    assert message in html and 'id="upload-form"' in html
    assert _files(app) == [] and _on_disk(app) == set()


def test_missing_file_and_too_large_file(app, world):
    client = world["owner"]
    client.get("/lang/en")
    r = client.post(f"/files/offer/{world['draft']}/attachments", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "Choose a file to upload." in r.get_data(as_text=True)
    app.config["UPLOAD_MAX_BYTES"]["attachment"] = 1024
    try:
        r = _post_file(client, f"/files/offer/{world['draft']}/attachments", PDF + bytes(2000), "big.pdf")
        assert r.status_code == 400 and "The file is larger than 1 KB." in r.get_data(as_text=True)
        assert _post_file(client, f"/files/offer/{world['draft']}/attachments", PDF, "ok.pdf").status_code == 302
    finally:
        app.config["UPLOAD_MAX_BYTES"]["attachment"] = 10 * 1024 * 1024
    assert len(_files(app)) == 1


def test_messages_are_in_chinese_by_default(app, world):
    r = _post_file(world["owner"], f"/files/offer/{world['draft']}/attachments", b"", "x.pdf")
    assert r.status_code == 400 and 'lang="zh' in r.get_data(as_text=True)


def test_a_rolled_back_upload_leaves_no_file(app, world):
    from marketplace.models import User
    with app.app_context():
        user = db.session.get(User, world["owner_id"])
        store = uploads.FileStore.from_settings(current_settings())
        stored = uploads.upload_attachment(user, "offer", world["draft"], "a.pdf", PDF, store)
        path = _folder(app) / stored.storage_name
        assert path.exists()
        db.session.rollback()
        assert not path.exists()
    assert _on_disk(app) == set()


# --- who may attach, see, download and delete --------------------------------------------------------------

def test_only_the_owner_while_editable_and_staff_attach(app, world):
    url = f"/files/offer/{world['published']}/attachments"
    assert _post_file(world["other"], f"/files/offer/{world['draft']}/attachments", PDF, "a.pdf").status_code == 404
    assert _post_file(world["other"], url, PDF, "a.pdf").status_code == 403
    assert _post_file(world["other"], f"/files/need/{world['need']}/attachments", PDF, "a.pdf").status_code == 403
    assert _post_file(world["owner"], url, PDF, "a.pdf").status_code == 403  # published: members may not edit
    assert _post_file(app.test_client(), url, PDF, "a.pdf").status_code == 302  # to the login page
    assert _files(app) == []
    assert _post_file(world["operator"], url, PDF, "a.pdf").status_code == 302
    assert len(_files(app)) == 1


def test_download_is_an_attachment_with_nosniff(app, world):
    _post_file(world["owner"], f"/files/need/{world['need']}/attachments", PDF, "招标文件.pdf")
    [stored] = _files(app)
    html = world["other"].get(f"/needs/{world['need']}").get_data(as_text=True)
    assert f'href="/files/{stored["id"]}"' in html and "招标文件.pdf" in html
    assert f'/files/{stored["id"]}/delete' not in html  # only those who may change the need see delete
    r = world["other"].get(f"/files/{stored['id']}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%E6%8B%9B" in disposition
    assert "no-store" in r.headers["Cache-Control"]


def test_attachments_of_other_organisations_drafts_are_not_found(app, world):
    _post_file(world["owner"], f"/files/offer/{world['draft']}/attachments", PDF, "draft.pdf")
    [stored] = _files(app)
    assert world["owner"].get(f"/files/{stored['id']}").status_code == 200
    assert world["other"].get(f"/files/{stored['id']}").status_code == 404
    assert app.test_client().get(f"/files/{stored['id']}").status_code == 404
    assert world["other"].post(f"/files/{stored['id']}/delete").status_code == 404
    assert world["owner"].get("/files/999999").status_code == 404
    assert len(_files(app)) == 1


def test_teaser_attachments_are_protected_details(app, make, world):
    teaser = make.offer(world["org"], status="draft", visibility="teaser")
    _post_file(world["owner"], f"/files/offer/{teaser}/attachments", PDF, "secret.pdf")
    with app.app_context():
        db.session.get(Offer, teaser).status = "published"
        db.session.commit()
    [stored] = _files(app)
    url = f"/files/{stored['id']}"
    # the other organisation sees the teaser page, but not the attachment list nor the file
    html = world["other"].get(f"/offers/{teaser}").get_data(as_text=True)
    assert 'id="teaser-notice"' in html and "secret.pdf" not in html and url not in html
    assert world["other"].get(url).status_code == 404
    assert app.test_client().get(url).status_code == 404
    # an operator sees it; the download is logged like a view of the details
    assert world["operator"].get(url).status_code == 200
    with app.app_context():
        logs = db.session.scalars(select(DetailAccessLog).where(DetailAccessLog.item_id == teaser)).all()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "confidential_view",
                                                           AuditEntry.details["file_id"].as_integer() == stored["id"]))
    assert [log.kind for log in logs] == ["view"] and entry is not None


def test_delete_attachment_removes_the_file_after_commit(app, world):
    _post_file(world["owner"], f"/files/offer/{world['draft']}/attachments", PDF, "a.pdf")
    [stored] = _files(app)
    html = world["owner"].get(f"/offers/{world['draft']}").get_data(as_text=True)
    assert f'/files/{stored["id"]}/delete' in html
    r = world["owner"].post(f"/files/{stored['id']}/delete")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/offers/{world['draft']}#attachments")
    assert _files(app) == [] and _on_disk(app) == set()
    with app.app_context():
        changes = [e.details["change"] for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "upload").order_by(AuditEntry.id))]
    assert changes == ["added", "removed"]


def test_delete_by_another_organisation_on_a_visible_item_is_forbidden(app, world):
    _post_file(world["owner"], f"/files/need/{world['need']}/attachments", PDF, "a.pdf")
    [stored] = _files(app)
    assert world["other"].post(f"/files/{stored['id']}/delete").status_code == 403
    assert len(_files(app)) == 1 and len(_on_disk(app)) == 1


def test_upload_and_delete_need_a_csrf_token(csrf_app, make):
    org, _, email = make.member("firm")
    need = make.need(org)
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"email": email, "password": "correct-horse-battery-9",
                                "csrf_token": csrf_token_from(page)})
    assert _post_file(client, f"/files/need/{need}/attachments", PDF, "a.pdf").status_code == 400
    html = client.get(f"/needs/{need}").get_data(as_text=True)
    assert 'id="attachment-form"' in html and 'enctype="multipart/form-data"' in html
    token = csrf_token_from(html)
    assert _post_file(client, f"/files/need/{need}/attachments", PDF, "a.pdf", csrf_token=token).status_code == 302
    [stored] = _files(csrf_app)
    assert client.post(f"/files/{stored['id']}/delete").status_code == 400
    assert client.post(f"/files/{stored['id']}/delete", data={"csrf_token": token}).status_code == 302


def test_attachment_count_is_limited(app, world, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ATTACHMENTS", 2)
    client = world["owner"]
    client.get("/lang/en")
    for n in range(2):
        assert _post_file(client, f"/files/need/{world['need']}/attachments", PDF, f"{n}.pdf").status_code == 302
    r = _post_file(client, f"/files/need/{world['need']}/attachments", PDF, "3.pdf")
    assert r.status_code == 400 and "at most 2 attachments" in r.get_data(as_text=True)
    assert len(_on_disk(app)) == 2


# --- logos ---------------------------------------------------------------------------------------------

def test_owner_uploads_a_logo_shown_on_the_profile(app, world):
    org = world["org"]
    form = world["owner"].get(f"/files/orgs/{org}/logo/upload")
    assert form.status_code == 200 and 'id="upload-form"' in form.get_data(as_text=True)
    assert _post_file(world["owner"], f"/files/orgs/{org}/logo/upload", PNG, "logo.png").status_code == 302
    [logo] = _files(app)
    assert logo["purpose"] == "logo" and logo["offer_id"] is None and re.fullmatch(r"[0-9a-f]{32}\.png",
                                                                                    logo["storage_name"])
    html = app.test_client().get(f"/orgs/{org}").get_data(as_text=True)
    assert f'src="/files/orgs/{org}/logo?v={logo["id"]}"' in html and 'id="logo-form"' not in html
    assert 'id="logo-form"' in world["owner"].get(f"/orgs/{org}").get_data(as_text=True)
    r = app.test_client().get(f"/files/orgs/{org}/logo")
    assert r.status_code == 200 and r.data == PNG and r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Disposition"].startswith("inline")
    # a new logo replaces the old one, on disk too
    assert _post_file(world["owner"], f"/files/orgs/{org}/logo/upload", WEBP, "new.webp").status_code == 302
    [new] = _files(app)
    assert new["content_type"] == "image/webp" and _on_disk(app) == {new["storage_name"]}
    assert app.test_client().get(f"/files/orgs/{world['other_org']}/logo").status_code == 404
    # the logo id route for attachments does not serve logos
    assert world["owner"].get(f"/files/{new['id']}").status_code == 404
    assert world["owner"].post(f"/files/orgs/{org}/logo/delete").status_code == 302
    assert _files(app) == [] and _on_disk(app) == set()
    assert app.test_client().get(f"/files/orgs/{org}/logo").status_code == 404


@pytest.mark.parametrize("data,name", [(PDF, "logo.pdf"), (HTML, "logo.png"), (b"<svg onload=alert(1)>", "l.svg")])
def test_logo_types_are_images_only(app, world, data, name):
    world["owner"].get("/lang/en")
    r = _post_file(world["owner"], f"/files/orgs/{world['org']}/logo/upload", data, name)
    assert r.status_code == 400 and "Allowed: PNG, JPEG, WebP." in r.get_data(as_text=True)
    assert _files(app) == []


def test_logo_size_limit(app, world):
    world["owner"].get("/lang/en")
    big = PNG + bytes(2 * 1024 * 1024)
    r = _post_file(world["owner"], f"/files/orgs/{world['org']}/logo/upload", big, "big.png")
    assert r.status_code == 400 and "The file is larger than 2 MB." in r.get_data(as_text=True)
    assert _files(app) == [] and _on_disk(app) == set()


def test_only_owners_and_staff_change_a_logo(app, make, world):
    org = world["org"]
    member_id = make.user("plain-member@example.com")
    with app.app_context():
        db.session.add(Membership(user_id=member_id, organization_id=org, role="member"))
        db.session.commit()
    plain = _as(app, "plain-member@example.com")
    assert _post_file(plain, f"/files/orgs/{org}/logo/upload", PNG, "l.png").status_code == 403
    assert _post_file(world["other"], f"/files/orgs/{org}/logo/upload", PNG, "l.png").status_code == 403
    assert _post_file(world["other"], "/files/orgs/999999/logo/upload", PNG, "l.png").status_code == 404
    assert _files(app) == []
    assert _post_file(world["operator"], f"/files/orgs/{org}/logo/upload", JPEG, "l.jpeg").status_code == 302
    assert world["other"].post(f"/files/orgs/{org}/logo/delete").status_code == 403
    assert len(_files(app)) == 1


def test_stored_names_are_checked_before_serving(app, world):
    _post_file(world["owner"], f"/files/need/{world['need']}/attachments", PDF, "a.pdf")
    [stored] = _files(app)
    with app.app_context():
        db.session.get(StoredFile, stored["id"]).storage_name = "../../marketplace/config.py"
        db.session.commit()
    assert world["owner"].get(f"/files/{stored['id']}").status_code == 404


def test_check_file_unit(tmp_path):
    store = uploads.FileStore(folder=tmp_path, limits={"logo": 100, "attachment": 1000})
    assert uploads.check_file("attachment", "a/b\\c\x00d.pdf", PDF, store).original_name == "cd.pdf"
    assert uploads.check_file("logo", "...", PNG[:90], store).original_name == "file.png"
    assert len(uploads.check_file("attachment", "长" * 300 + ".pdf", PDF, store).original_name) == 200
    assert uploads.detect_kind(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert uploads.megabytes(10 * 1024 * 1024) == "10 MB" and uploads.megabytes(1536 * 1024) == "1.5 MB"


def test_uploads_are_rate_limited_per_user(app, world):
    app.config["UPLOAD_RATE_LIMIT"] = "2 per minute"
    try:
        url = f"/files/need/{world['need']}/attachments"
        assert [_post_file(world["owner"], url, PDF, "a.pdf").status_code for _ in range(3)] == [302, 302, 429]
        assert _post_file(world["operator"], url, PDF, "b.pdf").status_code == 302  # another user's own budget
        assert world["owner"].get(url).status_code == 200  # the limit counts uploads, not page views
    finally:
        app.config["UPLOAD_RATE_LIMIT"] = "100000 per minute"
    assert len(_files(app)) == 3
