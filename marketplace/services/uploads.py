"""Uploaded files: organisation logos, business licences and attachments on offers and needs (issue 7).

Files are checked by their first bytes (never by the name alone), limited in size per purpose
(``UPLOAD_MAX_BYTES``), stored under a generated name (uuid4 hex + the extension of the detected type) in
``UPLOAD_FOLDER``, outside the static folder, and only ever served by a view that checks access first.
Attachments of teaser and confidential items count as protected details (``services.confidentiality``).

Services only flush. A file written in a transaction that is rolled back is removed again, and a removed file
is only deleted from disk once the removal is committed (session hooks below).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, event, func, select

from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.models.security import StoredFile
from marketplace.services import access, audit, confidentiality
from marketplace.services.errors import NotFound, PermissionDenied, ValidationFailed

OOXML = "application/vnd.openxmlformats-officedocument."
# detected kind -> (content type, accepted file name extensions; the first is used for the stored name)
KINDS = {
    "png": ("image/png", ("png",)),
    "jpeg": ("image/jpeg", ("jpg", "jpeg")),
    "webp": ("image/webp", ("webp",)),
    "pdf": ("application/pdf", ("pdf",)),
    "docx": (OOXML + "wordprocessingml.document", ("docx",)),
    "xlsx": (OOXML + "spreadsheetml.sheet", ("xlsx",)),
}
ALLOWED = {"logo": ("png", "jpeg", "webp"), "attachment": ("pdf", "png", "jpeg", "docx", "xlsx"),
           "licence": ("pdf", "png", "jpeg")}  # business licences: private, for owners and operators only
KIND_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP", "pdf": "PDF", "docx": "Word (DOCX)",
              "xlsx": "Excel (XLSX)"}
MAX_ATTACHMENTS = 20  # per offer or need
MAX_NAME = 200
STORAGE_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z]{3,4}$")
_FORBIDDEN_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


# --- checking what was sent -----------------------------------------------------------------------------

def _ooxml_kind(data: bytes) -> str | None:
    """``docx`` / ``xlsx`` for an Office Open XML package with the right main part and no macros, else None.
    Only the zip directory and the small content-types part are read, nothing is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > 5000:
                return None
            names = {i.filename for i in infos}
            ct_info = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
            if ct_info is None or ct_info.file_size > 1_000_000:
                return None
            content_types = archive.read(ct_info).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, ValueError, NotImplementedError):
        return None
    if any(n.lower().endswith("vbaproject.bin") for n in names) or "macroEnabled" in content_types:
        return None  # .docm / .xlsm renamed: macros are not accepted
    if "word/document.xml" in names and "wordprocessingml.document.main+xml" in content_types:
        return "docx"
    if "xl/workbook.xml" in names and "spreadsheetml.sheet.main+xml" in content_types:
        return "xlsx"
    return None


def detect_kind(data: bytes) -> str | None:
    """The file's real type from its first bytes (``png``, ``jpeg``, ``webp``, ``pdf``, ``docx``, ``xlsx``)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_kind(data)
    return None


def clean_name(filename: str) -> str:
    """The name the user gave, without any path, control or reserved characters (Chinese letters stay)."""
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN_NAME_CHARS.sub("", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


@dataclass(frozen=True)
class FileStore:
    """Where uploads are kept and how large each purpose may be (``UPLOAD_FOLDER``, ``UPLOAD_MAX_BYTES``).

    Built by the caller from the settings and passed in; the folder is created on first use.
    """
    folder: Path
    limits: dict

    @classmethod
    def from_settings(cls, settings) -> "FileStore":
        """The store described by ``marketplace.settings.ServiceSettings``."""
        return cls(folder=Path(settings.upload_folder).resolve(), limits=dict(settings.upload_max_bytes))

    def max_bytes(self, purpose: str) -> int:
        """The configured size limit for ``logo``, ``attachment`` or ``licence`` (an older configuration without
        a licence limit uses the attachment limit)."""
        return int(self.limits.get(purpose) or self.limits["attachment"])

    def ready_folder(self) -> Path:
        """The folder, created if missing."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder


def allowed_names(purpose: str) -> str:
    """``PNG, JPEG, WebP`` for messages and hints."""
    return ", ".join(KIND_NAMES[k] for k in ALLOWED[purpose])


def accept_attribute(purpose: str) -> str:
    """The file input's ``accept`` list (a hint for the browser; the server decides)."""
    return ",".join("." + ext for k in ALLOWED[purpose] for ext in KINDS[k][1])


def megabytes(n: int) -> str:
    """A size for people: ``2 MB``, ``1.5 MB``, ``12 KB``, ``80 B``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{n // 1024} KB" if n >= 1024 else f"{n} B"


@dataclass
class CheckedFile:
    data: bytes
    kind: str
    content_type: str
    extension: str
    original_name: str
    sha256: str


def _refuse(message) -> ValidationFailed:
    return ValidationFailed(message, field_errors={"file": message})


def check_file(purpose: str, filename: str, data: bytes, store: FileStore) -> CheckedFile:
    """Accept the file for ``purpose`` or raise ValidationFailed with a message saying what to change."""
    if purpose not in ALLOWED:
        raise ValueError(f"unknown upload purpose {purpose!r}")
    name = clean_name(filename)
    if not (filename or "").strip() and not data:
        raise _refuse(_l("Choose a file to upload."))
    if not data:
        raise _refuse(_l("The file is empty."))
    limit = store.max_bytes(purpose)
    if len(data) > limit:
        raise _refuse(_l("The file is larger than %(limit)s.", limit=megabytes(limit)))
    kind = detect_kind(data)
    if kind not in ALLOWED[purpose]:
        raise _refuse(_l("This file type is not accepted. Allowed: %(types)s.", types=allowed_names(purpose)))
    content_type, extensions = KINDS[kind]
    given = name.rpartition(".")[2].lower() if "." in name else ""
    if given and given not in extensions:
        raise _refuse(_l("The file's content (%(kind)s) does not match its name ending in .%(ext)s.",
                         kind=KIND_NAMES[kind], ext=given))
    if not name or not given:
        name = (name or "file") + "." + extensions[0]
    return CheckedFile(data=data, kind=kind, content_type=content_type, extension=extensions[0], original_name=name,
                       sha256=hashlib.sha256(data).hexdigest())


# --- storage -------------------------------------------------------------------------------------------

def path_of(stored: StoredFile, store: FileStore) -> Path:
    """Where the file's bytes are; the stored name is checked again so a bad row cannot point elsewhere."""
    if not STORAGE_NAME.match(stored.storage_name or ""):
        raise NotFound(_l("This file does not exist."))
    return store.ready_folder() / stored.storage_name


_WRITTEN, _DOOMED = "uploads_written", "uploads_doomed"


def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint was released; the outer transaction decides
        return
    session.info.pop(_WRITTEN, None)
    for path in session.info.pop(_DOOMED, []):
        Path(path).unlink(missing_ok=True)


def _after_transaction_end(session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Still listed here means the transaction ended without a commit: its new files go, removals are undone.
    for path in session.info.pop(_WRITTEN, []):
        Path(path).unlink(missing_ok=True)
    session.info.pop(_DOOMED, None)


def install_file_hooks() -> None:
    """Tie file writes and deletions to the session's commit (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
    if not event.contains(FlaskSession, "after_transaction_end", _after_transaction_end):
        event.listen(FlaskSession, "after_transaction_end", _after_transaction_end)


def _write(checked: CheckedFile, store: FileStore) -> str:
    """Write the bytes under a new generated name (atomically) and return the name."""
    install_file_hooks()
    storage_name = f"{uuid.uuid4().hex}.{checked.extension}"
    target = store.ready_folder() / storage_name
    partial = target.with_name(storage_name + ".part")
    with open(partial, "xb") as fh:
        fh.write(checked.data)
    os.replace(partial, target)
    db.session.info.setdefault(_WRITTEN, []).append(str(target))
    return storage_name


def _doom(stored: StoredFile, store: FileStore) -> None:
    install_file_hooks()
    db.session.info.setdefault(_DOOMED, []).append(str(path_of(stored, store)))
    db.session.delete(stored)


def store_file(user, checked: CheckedFile, purpose: str, organization_id: int, store: FileStore, *,
               offer_id=None, need_id=None) -> StoredFile:
    """Write a checked file and record it (removed again if the unit of work rolls back). Only flushes."""
    db.session.flush()  # a transaction is open before the file exists, so a rollback can remove it
    stored = StoredFile(storage_name=_write(checked, store), original_name=checked.original_name,
                        content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
                        purpose=purpose, organization_id=organization_id, offer_id=offer_id, need_id=need_id,
                        uploaded_by_id=audit.actor_of(user))
    db.session.add(stored)
    db.session.flush()
    return stored


def _audit(user, stored: StoredFile, change: str, object_type: str, object_id: int, remote_addr: str) -> None:
    audit.record(db.session, actor_id=audit.actor_of(user), action="upload", object_type=object_type,
                 object_id=object_id, organization_id=stored.organization_id,
                 summary=f"{change} {stored.purpose} {stored.original_name!r} ({stored.size} bytes)",
                 details={"change": change, "file_id": stored.id, "purpose": stored.purpose,
                          "name": stored.original_name, "size": stored.size, "sha256": stored.sha256,
                          "content_type": stored.content_type}, remote_addr=remote_addr)


# --- logos ---------------------------------------------------------------------------------------------

def can_manage_logo(user, org: Organization) -> bool:
    """Owners of the organisation (membership role ``owner``) and staff, as for the rest of the profile."""
    from marketplace.services.organizations import can_edit_profile
    return can_edit_profile(user, org)


def _organization(organization_id: int) -> Organization:
    org = db.session.get(Organization, organization_id)
    if org is None:
        raise NotFound(_l("This organisation does not exist."))
    return org


def current_logo(organization_id: int) -> StoredFile | None:
    """The organisation's logo, if it has one."""
    return db.session.scalar(select(StoredFile).where(StoredFile.organization_id == organization_id,
                                                      StoredFile.purpose == "logo")
                             .order_by(StoredFile.id.desc()).limit(1))


def upload_logo(user, organization_id: int, filename: str, data: bytes, store: FileStore, *,
                remote_addr: str = "") -> StoredFile:
    """Set the organisation's logo (replacing the previous one). Only flushes."""
    org = _organization(organization_id)
    if not can_manage_logo(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators change its logo."))
    checked = check_file("logo", filename, data, store)
    for old in db.session.scalars(select(StoredFile).where(StoredFile.organization_id == org.id,
                                                           StoredFile.purpose == "logo")):
        _audit(user, old, "removed", "organization", org.id, remote_addr)
        _doom(old, store)
    stored = store_file(user, checked, "logo", org.id, store)
    _audit(user, stored, "added", "organization", org.id, remote_addr)
    return stored


def remove_logo(user, organization_id: int, store: FileStore, *, remote_addr: str = "") -> None:
    """Remove the logo (owners, staff); the bytes go after the commit. Only flushes."""
    org = _organization(organization_id)
    if not can_manage_logo(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators change its logo."))
    logo = current_logo(org.id)
    if logo is None:
        raise NotFound(_l("This organisation has no logo."))
    _audit(user, logo, "removed", "organization", org.id, remote_addr)
    _doom(logo, store)
    db.session.flush()


def logo_for_display(organization_id: int) -> StoredFile:
    """The logo to show on the (public) profile page, or NotFound."""
    logo = current_logo(organization_id)
    if logo is None:
        raise NotFound(_l("This organisation has no logo."))
    return logo


# --- attachments on offers and needs ---------------------------------------------------------------------

# The offer or need ``user`` may see, else NotFound (existence stays hidden): the same rule as for details.
get_item = confidentiality.get_item


def can_attach(user, item) -> bool:
    """Members of the owner organisation while they may edit the item, and staff."""
    if isinstance(item, Offer):
        return access.can_edit_offer(user, item)
    return access.can_edit_need(user, item)


def may_see_attachments(user, item) -> bool:
    """Everybody who sees a public item; the details' audience for teaser and confidential ones."""
    return item.visibility == "public" or confidentiality.detail_access(user, item).show


def _item_column(item):
    return StoredFile.offer_id if isinstance(item, Offer) else StoredFile.need_id


def _attachments_statement(column):
    return (select(StoredFile).where(column == bindparam("item_id"), StoredFile.purpose == "attachment")
            .order_by(StoredFile.created_at, StoredFile.id))


# Built once (every offer's and need's page asks): building cost more than running it.
_ATTACHMENTS = {Offer: _attachments_statement(StoredFile.offer_id), Need: _attachments_statement(StoredFile.need_id)}


def attachments_of(item) -> list[StoredFile]:
    """All attachments of an offer or need, oldest first (no access check)."""
    return list(db.session.scalars(_ATTACHMENTS[Offer if isinstance(item, Offer) else Need], {"item_id": item.id}))


def attachments_for(user, item) -> list[StoredFile]:
    """The item's attachments if ``user`` may see them, else an empty list. No writes."""
    return attachments_of(item) if may_see_attachments(user, item) else []


def upload_attachment(user, item_type: str, item_id: int, filename: str, data: bytes, store: FileStore, *,
                      remote_addr: str = "") -> StoredFile:
    """Attach a file to an offer or need. Only flushes."""
    item = get_item(user, item_type, item_id)
    if not can_attach(user, item):
        raise PermissionDenied(_l("You may not change the attachments of this item."))
    checked = check_file("attachment", filename, data, store)
    count = db.session.scalar(select(func.count(StoredFile.id)).where(_item_column(item) == item.id)) or 0
    if count >= MAX_ATTACHMENTS:
        raise _refuse(_l("An item has at most %(n)d attachments; delete one first.", n=MAX_ATTACHMENTS))
    stored = store_file(user, checked, "attachment", item.organization_id, store,
                    offer_id=item.id if item_type == "offer" else None,
                    need_id=item.id if item_type == "need" else None)
    _audit(user, stored, "added", item_type, item.id, remote_addr)
    return stored


def item_of(stored: StoredFile):
    """(``offer`` | ``need``, the item) an attachment belongs to; ("", None) for a logo."""
    if stored.offer_id is not None:
        return "offer", db.session.get(Offer, stored.offer_id)
    if stored.need_id is not None:
        return "need", db.session.get(Need, stored.need_id)
    return "", None


def _attachment(user, file_id: int):
    """(stored file, item type, item) for an attachment whose item ``user`` may see, else NotFound."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.purpose != "attachment":
        raise NotFound(_l("This file does not exist."))
    item_type, item = item_of(stored)
    if item is None:
        raise NotFound(_l("This file does not exist."))
    get_item(user, item_type, item.id)
    return stored, item_type, item


def open_attachment(user, file_id: int, store: FileStore, *, remote_addr: str = "") -> tuple[StoredFile, Path]:
    """An attachment and its path, for a download by someone who may see the item's details (NotFound for
    everybody else). Downloads of protected details by people outside the owner organisation are logged like
    page views (``confidentiality.open_details``). Only flushes."""
    stored, _item_type, item = _attachment(user, file_id)
    if item.visibility != "public" and not confidentiality.open_details(
            user, item, remote_addr=remote_addr, details={"file_id": stored.id, "file": stored.original_name}).show:
        raise NotFound(_l("This file does not exist."))
    path = path_of(stored, store)
    if not path.is_file():
        raise NotFound(_l("This file does not exist."))
    return stored, path


def delete_attachment(user, file_id: int, store: FileStore, *, remote_addr: str = ""):
    """Remove an attachment (owner organisation while it may edit, staff); the bytes go after the commit.
    Returns (item type, item id) for the redirect. Only flushes."""
    stored, item_type, item = _attachment(user, file_id)
    if not may_see_attachments(user, item):
        raise NotFound(_l("This file does not exist."))
    if not can_attach(user, item):
        raise PermissionDenied(_l("You may not change the attachments of this item."))
    _audit(user, stored, "removed", item_type, item.id, remote_addr)
    _doom(stored, store)
    db.session.flush()
    return item_type, item.id

