"""The personal data store (kho quản lý dữ liệu điện tử của cá nhân): a citizen's documents and results, kept once
each (by checksum) and reusable in later dossiers without uploading them again."""

from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound, ValidationFailed
from core.files import sha256_of, sniff_content_type, upload_check

from .models import StoredDocument, stored_document_path


def _keep(document: StoredDocument, content: File) -> None:  # type: ignore[type-arg]
    # Content-addressed: the same file stored by several citizens (or twice) is written to disk once.
    path = stored_document_path(document, document.checksum)
    existing = StoredDocument.objects.filter(checksum=document.checksum).values_list("file", flat=True).first()
    if existing and default_storage.exists(existing):
        document.file.name = existing
    elif default_storage.exists(path):
        document.file.name = path
    else:
        document.file.save(document.checksum, content, save=False)


@transaction.atomic
def stored_document_add(
    *, owner: Any, upload: UploadedFile, name: str, origin: str = StoredDocument.Origin.UPLOAD, dossier_code: str = ""
) -> StoredDocument:
    """Check the upload (size, content, virus scan) and keep it in the owner's store; the same file again gives
    back the document already stored."""
    content_type = upload_check(upload)
    checksum = sha256_of(upload)
    found = StoredDocument.objects.filter(owner=owner, checksum=checksum).first()
    if found is not None:
        return found
    label = name.strip() or (upload.name or "")[:200] or _("Document")
    document = StoredDocument(
        owner=owner,
        name=label[:500],
        origin=origin,
        dossier_code=dossier_code,
        file_name=(upload.name or "")[:255],
        content_type=content_type,
        size=upload.size,
        checksum=checksum,
    )
    _keep(document, upload)
    document.save()
    return document


@transaction.atomic
def stored_document_copy(
    *, owner: Any, file_name: str, stored_name: str, name: str, checksum: str, dossier_code: str
) -> StoredDocument:
    """Put a file already kept by the system (a dossier's result) into the owner's store, once."""
    found = StoredDocument.objects.filter(owner=owner, checksum=checksum).first()
    if found is not None:
        return found
    with default_storage.open(stored_name, "rb") as handle:
        content_type = sniff_content_type(handle) or "application/octet-stream"
        size = default_storage.size(stored_name)
    document = StoredDocument(
        owner=owner,
        name=name[:500],
        origin=StoredDocument.Origin.RESULT,
        dossier_code=dossier_code,
        file_name=file_name[:255],
        content_type=content_type,
        size=size,
        checksum=checksum,
    )
    document.file.name = stored_name
    document.save()
    return document


@transaction.atomic
def stored_document_remove(*, owner: Any, pk: int) -> None:
    """Remove a document from the owner's store. Dossiers it went into keep their own copy of the reference."""
    document = StoredDocument.objects.filter(owner=owner, pk=pk).first()
    if document is None:
        raise NotFound(_("No such document in your data store."))
    try:
        document.delete()
    except ProtectedError:
        raise ValidationFailed(
            _("“%(name)s” is attached to an application you are preparing: remove it there first.")
            % {"name": document.name}
        ) from None


def stored_documents(*, owner: Any) -> QuerySet[StoredDocument]:
    return StoredDocument.objects.filter(owner=owner).order_by("-created_at", "-id")


def access_stored_document(*, owner: Any, pk: int) -> StoredDocument:
    document = StoredDocument.objects.filter(owner=owner, pk=pk).first()
    if document is None:
        raise NotFound(_("No such document in your data store."))
    return document
