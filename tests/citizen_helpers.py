"""Citizens' accounts and online drafts for tests."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from citizens.models import Citizen
from dossiers import online
from dossiers.models import Delivery, Dossier, Draft
from organizations.models import AdministrativeUnit, Agency
from procedures.models import Procedure

from .conftest import PASSWORD
from .dossier_helpers import BIRTH, PDF

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def citizen_user(username: str = "089195000123", *, full_name: str = "Nguyễn Thị Hồng Nhung", **profile):  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.vn")
    defaults = {
        "id_number": username if username.isdigit() and len(username) == 12 else "089195000123",
        "birth_date": dt.date(1995, 3, 14),
        "phone": "0912345678",
        "email": f"{username}@example.vn",
        "address": "12 Trần Hưng Đạo",
        "commune": AdministrativeUnit.objects.get(code=30307),
    }
    Citizen.objects.create(user=user, full_name=full_name, **{**defaults, **profile})
    return user


def pdf(name: str = "giay-to.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + name.encode(), "application/pdf")


def ready_draft(user, *, procedure_code: str = BIRTH, agency_key: str = "ubnd_30307") -> Draft:  # type: ignore[no-untyped-def]
    """A draft with its form, every required document and the delivery done: ready to submit (fees aside)."""
    agency = Agency.objects.get(key=agency_key)
    draft = online.draft_start(user=user, procedure_code=procedure_code, agency_id=agency.pk)
    # The procedures' eForms have their own tests (test_eforms.py); here the form is taken as filled in.
    Draft.objects.filter(pk=draft.pk).update(stage=Draft.Stage.DOCUMENTS)
    for component in Procedure.objects.get(code=procedure_code).components.filter(required=True):
        online.draft_document_add(user=user, pk=draft.pk, component_id=component.pk, upload=pdf(f"c{component.pk}.pdf"))
    online.draft_documents_done(user=user, pk=draft.pk)
    online.draft_delivery_set(user=user, pk=draft.pk, delivery=Delivery.COUNTER, address="")
    return Draft.objects.get(pk=draft.pk)


def submitted(user, **kwargs) -> Dossier:  # type: ignore[no-untyped-def]
    draft = ready_draft(user, **kwargs)
    online.draft_payment_done(user=user, pk=draft.pk, pay_later=False)
    return online.draft_submit(user=user, pk=draft.pk)
