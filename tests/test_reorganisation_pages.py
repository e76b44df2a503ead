"""The reorganisation pages of the back office: province administrators record, preview, apply and delete
reorganisations; agency administrators work through the workflow checklist they leave (backoffice/reorganisation.py).
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from dossiers.models import Dossier
from dossiers.reorganisation import reorganisation_apply
from dossiers.reorganisation_preview import reorganisation_get, reorganisation_preview
from dossiers.services import dossier_receive, dossier_refuse_at_intake
from organizations.models import Agency, Department, Reorganisation, Role, Staff
from organizations.reorganisation import NewAgency, Part, department_move_record, merge_record, split_record
from procedures.models import Competence
from workflows.models import ChecklistItem, Version

from .conftest import PASSWORD
from .dossier_helpers import BIRTH, intake, officer
from .workflow_helpers import publish_standard, staff

pytestmark = pytest.mark.django_db

A, B, C = "ubnd_30307", "ubnd_30316", "ubnd_30292"
NEW_KEY = "ubnd_lx_moi"


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    return reverse(f"backoffice:{name}", args=args)


def signed_in(client, who: Staff):  # type: ignore[no-untyped-def]
    client.logout()
    assert client.login(username=who.user.username, password=PASSWORD)
    return client


def said(message: str, **values) -> str:  # type: ignore[no-untyped-def]
    """A message as a page shows it: translated, filled in and escaped."""
    return escape(gettext(message) % values if values else gettext(message))


def today() -> dt.date:
    return timezone.localdate()


def agency(key: str) -> Agency:
    return Agency.objects.get(key=key)


def new_agency() -> NewAgency:
    old = agency(A)
    return NewAgency(
        key=NEW_KEY, identifier="000.99.30.H01", name="Ủy ban nhân dân phường Long Xuyên (mới)",
        short_name="UBND phường Long Xuyên (mới)", level=Agency.Level.COMMUNE, kind=Agency.Kind.PEOPLES_COMMITTEE,
        unit=old.unit, parent=old.parent,
    )  # fmt: skip


@pytest.fixture
def people(db, province_admin):  # type: ignore[no-untyped-def]
    return {
        "province": province_admin,
        "admin_a": staff("qt.a", role=Role.AGENCY_ADMIN, agency_key=A),
        "admin_c": staff("qt.c", role=Role.AGENCY_ADMIN, agency_key=C),
        "desk_a": officer(agency_key=A, username="mc.a"),
    }


def merge_data(**values) -> dict:  # type: ignore[type-arg]
    old = agency(A)
    data = {
        "kind": "merge_new", "sources": [old.pk, agency(B).pk], "name": "Ủy ban nhân dân phường Long Xuyên (mới)",
        "short_name": "UBND phường Long Xuyên (mới)", "key": NEW_KEY, "identifier": "000.99.30.H01",
        "level": "commune", "agency_kind": "ubnd", "unit": old.unit_id, "parent": old.parent_id,
        "effective_date": today().isoformat(), "decision": "Nghị quyết số 99/NQ-HĐND", "note": "",
    }  # fmt: skip
    data.update(values)
    return data


def valid_form(kind: str) -> dict:  # type: ignore[type-arg]
    common = {"kind": kind, "effective_date": today().isoformat(), "decision": "Quyết định số 12/QĐ-UBND"}
    if kind == "merge_new":
        return merge_data()
    if kind == "merge_into":
        return {**common, "sources": [agency(A).pk], "target": agency(B).pk}
    if kind == "rename":
        return {**common, "agency": agency("stp").pk, "new_name": "Sở Tư pháp và Pháp chế", "new_identifier": ""}
    if kind == "split":
        code = Department.objects.filter(agency__key=A).order_by("code").first().code
        return {**common, "source": agency(A).pk, "successor_1": agency(B).pk, "successor_2": agency(C).pk,
                "departments_2": [code]}  # fmt: skip
    if kind == "dissolve":
        return {**common, "agency": agency(A).pk, "successor": agency(B).pk}
    moving = Department.objects.get(agency__key="syt", code="bao_tro_xa_hoi")
    return {**common, "from_agency": moving.agency_id, "department": moving.pk, "to": agency("snv").pk}


# (kind, what to break, the field whose message the page shows, the service's message)
INVALID = [
    ("merge_new", {"decision": "", "identifier": "abc def"}, "identifier",
     "An electronic identifier is groups of digits and capital letters separated by dots."),
    ("merge_into", {"target": ""}, "target", "Choose the agency that continues, or describe the new agency."),
    ("rename", {"new_name": " "}, "new_name", "Enter the new name."),
    ("split", {"successor_2": "", "departments_2": []}, "successor_1",
     "A split names at least two successor agencies."),
    ("dissolve", {"decision": ""}, "decision", "Enter the number and date of the decision."),
    ("move_department", {"to": "__same__"}, "to", "The department already belongs to this agency."),
]  # fmt: skip


def state() -> tuple[int, int, int]:
    return Reorganisation.objects.count(), Agency.objects.count(), Department.objects.count()


# Who may see and do what -----------------------------------------------------------------------------------------


def test_only_province_administrators_reach_the_reorganisation_pages(client, people):  # type: ignore[no-untyped-def]
    planned = merge_record(
        sources=[agency(A)], target=agency(B), effective_date=today(), decision="Quyết định số 1/QĐ-UBND"
    )
    before = state()
    requests = [
        ("get", url("reorganisations"), {}),
        ("post", url("reorganisations"), valid_form("rename")),
        ("get", url("reorganisation", planned.pk), {}),
        ("post", url("reorganisation-apply", planned.pk), {"apply-confirm": "on"}),
        ("post", url("reorganisation-delete", planned.pk), {"delete-confirm": "on"}),
    ]
    refusal = said("Only province administrators record and apply reorganisations.")
    for who in ("admin_a", "admin_c", "desk_a"):
        signed_in(client, people[who])
        for method, path, data in requests:
            response = getattr(client, method)(path, data)
            assert response.status_code == 403, (who, path)
            assert refusal in response.content.decode()
    assert state() == before
    assert Reorganisation.objects.get(pk=planned.pk).state == Reorganisation.State.PLANNED
    client.logout()
    assert client.get(url("reorganisations")).status_code == 302  # to the sign-in page
    signed_in(client, people["province"])
    for method, path, _data in requests[:3]:
        data = {"kind": "split", "refresh": "1"} if method == "post" else {}
        assert getattr(client, method)(path, data).status_code == 200, path
    assert client.get(url("reorganisation", planned.pk + 1000)).status_code == 404
    # The navigation shows the page to province administrators only.
    assert url("reorganisations") in client.get(url("home")).content.decode()
    signed_in(client, people["admin_a"])
    assert url("reorganisations") not in client.get(url("home")).content.decode()


def test_only_administrators_reach_the_checklist(client, people):  # type: ignore[no-untyped-def]
    signed_in(client, people["desk_a"])
    assert client.get(url("workflow-checklist")).status_code == 403
    response = client.post(url("workflow-checklist-copy"), {"publish": "1"})
    assert response.status_code == 403
    assert said("Only agency and province administrators configure workflows.") in response.content.decode()
    for who in ("admin_a", "admin_c", "province"):
        signed_in(client, people[who])
        assert client.get(url("workflow-checklist")).status_code == 200, who


# Recording -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["merge_new", "merge_into", "rename", "split", "dissolve", "move_department"])
def test_each_kind_is_recorded_through_its_form(client, people, kind):  # type: ignore[no-untyped-def]
    signed_in(client, people["province"])
    form = client.get(url("reorganisations"), {"kind": kind})
    assert form.status_code == 200 and f'name="kind" value="{kind}"' in form.content.decode()
    response = client.post(url("reorganisations"), valid_form(kind))
    assert response.status_code == 302, response.content.decode()[:3000]
    reorganisation = Reorganisation.objects.get()
    assert response["Location"] == url("reorganisation", reorganisation.pk)
    assert reorganisation.kind == kind and reorganisation.state == Reorganisation.State.PLANNED
    assert reorganisation.decision and reorganisation.created_by == people["province"].user
    successions = list(reorganisation.successions.select_related("predecessor", "successor").order_by("pk"))
    if kind == "merge_new":
        new = Agency.objects.get(key=NEW_KEY)
        assert new.valid_from == today() and new.identifier == "000.99.30.H01"
        assert {s.predecessor.key for s in successions} == {A, B} and {s.successor for s in successions} == {new}
    elif kind == "split":
        assert [(s.successor.key, s.main) for s in successions] == [(B, True), (C, False)]
        assert successions[1].department_codes == [valid_form("split")["departments_2"][0]]
    elif kind == "rename":
        assert reorganisation.new_name == "Sở Tư pháp và Pháp chế"
    elif kind == "move_department":
        assert successions[0].successor.key == "snv" and successions[0].department_codes == ["bao_tro_xa_hoi"]
    page = client.get(response["Location"]).content.decode()
    assert escape(reorganisation.decision) in page


@pytest.mark.parametrize(("kind", "broken", "field", "message"), INVALID)
def test_bad_input_is_shown_beside_its_field_and_records_nothing(client, people, kind, broken, field, message):  # type: ignore[no-untyped-def]
    signed_in(client, people["province"])
    data = valid_form(kind)
    if broken.get("to") == "__same__":
        broken = {"to": data["from_agency"]}
    data.update(broken)
    before = state()
    response = client.post(url("reorganisations"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert said(message) in html
    assert f'id="id_{field}_error"' in html
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error"', html)
    assert state() == before  # nothing recorded, no agency created


def test_a_second_planned_reorganisation_of_the_same_agency_is_refused(client, people):  # type: ignore[no-untyped-def]
    merge_record(sources=[agency(A)], target=agency(B), effective_date=today(), decision="QĐ 1")
    signed_in(client, people["province"])
    before = state()
    response = client.post(url("reorganisations"), valid_form("dissolve"))
    assert response.status_code == 400
    assert said(
        "%(agency)s already has a planned reorganisation: apply or delete it first.", agency=agency(A).name
    ) in (response.content.decode())
    assert state() == before


def test_choosing_the_agency_lists_its_departments_with_or_without_javascript(client, people):  # type: ignore[no-untyped-def]
    signed_in(client, people["province"])
    codes = list(Department.objects.filter(agency__key=A).values_list("code", flat=True))
    other = Department.objects.filter(agency__key="stp").values_list("code", flat=True).first()
    page = client.get(url("reorganisations"), {"kind": "split", "source": agency(A).pk}).content.decode()
    assert all(f'value="{code}"' in page for code in codes) and f'value="{other}"' not in page
    assert 'hx-get="' in page and 'hx-select="#department-choices"' in page
    # Without JavaScript the button shows them again, keeping what was typed and recording nothing.
    before = state()
    data = {"kind": "move_department", "from_agency": agency("stp").pk, "decision": "QĐ 8", "refresh": "1"}
    response = client.post(url("reorganisations"), data)
    html = response.content.decode()
    assert response.status_code == 200 and f'value="{other}"' not in html  # department pks, not codes, for a move
    stp_department = Department.objects.filter(agency__key="stp").first()
    assert f'<option value="{stp_department.pk}"' in html and 'value="QĐ 8"' in html
    assert "error" not in re.sub(r"<style.*?</style>", "", html).split('id="record-form"')[1].split("</form>")[0]
    assert state() == before


# Preview ---------------------------------------------------------------------------------------------------------


def receive_open(agency_key: str, username: str, n: int) -> list[Dossier]:  # type: ignore[no-untyped-def]
    desk = officer(agency_key=agency_key, username=username)
    return [dossier_receive(officer=desk, intake=intake(agency=agency(agency_key))) for _ in range(n)]


def test_the_preview_of_a_merger_counts_the_open_dossiers_that_move(client, people):  # type: ignore[no-untyped-def]
    publish_standard(agency_key=A)
    publish_standard(agency_key=B)
    receive_open(A, "mc.a2", 2)
    receive_open(B, "mc.b", 1)
    desk_b = Staff.objects.get(user__username="mc.b")
    dossier_refuse_at_intake(officer=desk_b, intake=intake(agency=agency(B)), reasons="Thiếu tờ khai")  # closed
    reorganisation = merge_record(
        sources=[agency(A), agency(B)], effective_date=today(), decision="NQ 99", new=new_agency()
    )
    preview = reorganisation_preview(reorganisation=reorganisation_get(reorganisation_id=reorganisation.pk))
    assert preview["open_dossiers"] == 3 and preview["blocked"] == []
    new = Agency.objects.get(key=NEW_KEY)
    rows = {(p["agency"].key, r["procedure"].code): r for p in preview["predecessors"] for r in p["procedures"]}
    assert rows[(A, BIRTH)]["open_dossiers"] == 2 and rows[(B, BIRTH)]["open_dossiers"] == 1
    # Every department goes to the new agency, so each procedure follows its handling department there.
    assert rows[(A, BIRTH)]["to"] == new and rows[(A, BIRTH)]["rule"] == "department"
    assert {r["to"] for r in rows.values()} == {new}
    assert len(rows) == Competence.objects.valid_on(today()).filter(agency__key__in=[A, B]).count()
    assert all(p["ends"] and p["staying"] == 0 for p in preview["predecessors"])
    signed_in(client, people["province"])
    page = client.get(url("reorganisation", reorganisation.pk)).content.decode()
    assert said("Open dossiers that will move: %(n)s", n=3) in page
    assert said("Apply now") in page  # the date has come
    # Read-only: nothing moved.
    assert not Dossier.objects.filter(agency=new).exists()
    assert Reorganisation.objects.get(pk=reorganisation.pk).state == Reorganisation.State.PLANNED


@pytest.mark.parametrize("kind", ["split", "move_department"])
def test_the_preview_says_where_each_procedure_goes_as_applying_does(people, kind):  # type: ignore[no-untyped-def]
    if kind == "split":
        source = agency(A)
        code, department_kind = source.departments.order_by("code").values_list("code", "kind")[1]
        named = Competence.objects.filter(agency=source).exclude(department_kind=department_kind).first()
        reorganisation = split_record(
            source=source,
            parts=[Part(successor=agency(B)), Part(successor=agency(C), department_codes=[code],
                                                   procedure_codes=[named.procedure.code])],
            effective_date=today(),
            decision="QĐ 4",
        )  # fmt: skip
    else:
        source = agency("syt")
        moving = Department.objects.get(agency=source, code="bao_tro_xa_hoi")
        Competence.objects.filter(pk=Competence.objects.filter(agency=source).first().pk).update(
            department_kind=moving.kind
        )
        reorganisation = department_move_record(
            department=moving, to=agency("snv"), effective_date=today(), decision="QĐ 5"
        )
    preview = reorganisation_preview(reorganisation=reorganisation)
    (predecessor,) = preview["predecessors"]
    expected = {r["procedure"].code: r["to"].name for r in predecessor["procedures"]}
    assert expected and {r["rule"] for r in predecessor["procedures"]} >= {"department"}
    if kind == "split":
        # The named procedure goes to C; the others follow their department: C's, or the main successor B's.
        assert {r["rule"] for r in predecessor["procedures"]} == {"named", "department"}
        assert {r["to"].key for r in predecessor["procedures"]} == {B, C}
    else:
        assert predecessor["staying"] == Competence.objects.filter(agency=source).count() - 1
    report = reorganisation_apply(reorganisation_id=reorganisation.pk)
    assert {row["procedure"]: row["to"] for row in report.procedures_moved} == expected


# Applying and deleting -------------------------------------------------------------------------------------------


def test_apply_through_the_page_on_its_date_and_its_report(client, people):  # type: ignore[no-untyped-def]
    publish_standard(agency_key=A)
    receive_open(A, "mc.a2", 1)
    later = merge_record(
        sources=[agency(C)], target=agency(B), effective_date=today() + dt.timedelta(days=1), decision="QĐ 2"
    )
    due = merge_record(sources=[agency(A)], effective_date=today(), decision="NQ 99", new=new_agency())
    signed_in(client, people["province"])
    # Before its date: no button, and the POST is refused.
    page = client.get(url("reorganisation", later.pk)).content.decode()
    assert url("reorganisation-apply", later.pk) not in page
    response = client.post(url("reorganisation-apply", later.pk), {"apply-confirm": "on"})
    assert response.status_code == 409 and agency(C).valid_until is None
    # Without the confirmation nothing happens.
    response = client.post(url("reorganisation-apply", due.pk), {})
    assert response.status_code == 400 and agency(A).valid_until is None
    assert 'id="id_apply-confirm_error"' in response.content.decode()
    response = client.post(url("reorganisation-apply", due.pk), {"apply-confirm": "on"})
    assert response.status_code == 302
    due.refresh_from_db()
    assert due.state == Reorganisation.State.APPLIED and agency(A).valid_until == today()
    new = Agency.objects.get(key=NEW_KEY)
    page = client.get(url("reorganisation", due.pk)).content.decode()
    assert f"{escape(agency(A).name)} → {escape(new.name)}" in page  # dossiers moved, per pair
    assert escape(new.name) in page and url("reorganisation-apply", due.pk) not in page
    assert due.report["dossiers_moved"] == {f"{agency(A).name} → {new.name}": 1}
    # Applying twice is refused.
    response = client.post(url("reorganisation-apply", due.pk), {"apply-confirm": "on"})
    assert response.status_code == 409
    assert said("This reorganisation was applied on %(date)s.", date=timezone.localtime(due.applied_at).strftime(
        "%d/%m/%Y %H:%M")) in response.content.decode()  # fmt: skip


def test_delete_a_planned_reorganisation_and_the_new_agency_nobody_uses(client, people):  # type: ignore[no-untyped-def]
    signed_in(client, people["province"])
    assert client.post(url("reorganisations"), merge_data()).status_code == 302
    planned = Reorganisation.objects.get()
    assert client.post(url("reorganisation-delete", planned.pk), {}).status_code == 400  # not confirmed
    assert Reorganisation.objects.filter(pk=planned.pk).exists()
    response = client.post(url("reorganisation-delete", planned.pk), {"delete-confirm": "on"})
    assert response.status_code == 302 and response["Location"] == url("reorganisations")
    assert not Reorganisation.objects.exists() and not Agency.objects.filter(key=NEW_KEY).exists()
    # A new agency already in use (an administrator was created for it) stays.
    assert client.post(url("reorganisations"), merge_data()).status_code == 302
    planned = Reorganisation.objects.get()
    staff("qt.moi", role=Role.AGENCY_ADMIN, agency_key=NEW_KEY)
    client.post(url("reorganisation-delete", planned.pk), {"delete-confirm": "on"})
    assert not Reorganisation.objects.exists() and Agency.objects.filter(key=NEW_KEY).exists()
    # An applied one cannot be deleted.
    applied = merge_record(sources=[agency(C)], target=agency(B), effective_date=today(), decision="QĐ 3")
    reorganisation_apply(reorganisation_id=applied.pk)
    response = client.post(url("reorganisation-delete", applied.pk), {"delete-confirm": "on"})
    assert response.status_code == 409 and Reorganisation.objects.filter(pk=applied.pk).exists()


# The checklist ---------------------------------------------------------------------------------------------------


@pytest.fixture
def merged(people):  # type: ignore[no-untyped-def]
    """A and B merged today into a new agency, with its administrator."""
    publish_standard(agency_key=A)
    publish_standard(agency_key=B)
    reorganisation = merge_record(
        sources=[agency(A), agency(B)], effective_date=today(), decision="NQ 99", new=new_agency()
    )
    reorganisation_apply(reorganisation_id=reorganisation.pk)
    people["admin_new"] = staff("qt.moi", role=Role.AGENCY_ADMIN, agency_key=NEW_KEY, full_name="Lê Thị Mới")
    return people


def test_the_checklist_shows_each_administrator_their_own_items(client, merged):  # type: ignore[no-untyped-def]
    new = Agency.objects.get(key=NEW_KEY)
    items = ChecklistItem.objects.filter(agency=new)
    birth = items.get(procedure__code=BIRTH)
    assert items.count() > 1
    signed_in(client, merged["admin_new"])
    response = client.get(url("workflow-checklist"))
    assert len(response.context["page"]) == items.count()
    html = response.content.decode()
    assert escape(gettext(birth.get_reason_display()).capitalize()[:20]) in html
    assert escape(birth.source_agency.name) in html and "NQ 99" in html
    # The banner on the home page and the designer's index.
    banner = said("Procedures whose workflow must be configured again after a reorganisation: %(n)s", n=items.count())
    assert banner in client.get(url("home")).content.decode()
    assert banner in client.get(url("workflows")).content.decode()
    # Another agency's administrator sees none of them, no banner, and cannot copy them.
    signed_in(client, merged["admin_c"])
    assert len(client.get(url("workflow-checklist")).context["page"]) == 0
    assert (
        said("Procedures whose workflow must be configured again")[:30] not in client.get(url("home")).content.decode()
    )
    assert client.post(url("workflow-checklist-copy"), {"item": birth.pk, "publish": "1"}).status_code == 404
    client.post(url("workflow-checklist-copy"), {"publish": "1"})  # the bulk tool: their own agency, nothing to do
    assert not ChecklistItem.objects.filter(agency=new, done_at__isnull=False).exists()
    # The province administrator sees every agency's, or one agency's.
    signed_in(client, merged["province"])
    everything = client.get(url("workflow-checklist"))
    assert len(everything.context["page"]) == min(ChecklistItem.objects.count(), 50)
    assert everything.context["agency"] is None
    one = client.get(url("workflow-checklist"), {"agency": new.pk})
    assert len(one.context["page"]) == items.count() and one.context["agency"] == new


def test_copy_one_item_then_all_through_the_page(client, merged):  # type: ignore[no-untyped-def]
    new = Agency.objects.get(key=NEW_KEY)
    birth = ChecklistItem.objects.get(agency=new, procedure__code=BIRTH)
    signed_in(client, merged["admin_new"])
    response = client.post(url("workflow-checklist-copy"), {"item": birth.pk})
    assert response.status_code == 200
    draft = Version.objects.get(workflow__agency=new, workflow__procedure=birth.procedure, state=Version.State.DRAFT)
    assert url("workflow-version", draft.pk) in response.content.decode()
    assert all(s.agency_id == new.pk for s in draft.steps.all())
    birth.refresh_from_db()
    assert birth.done_at is None  # a draft is not done yet
    # "Configure" opens that draft in the designer.
    response = client.post(url("workflow-draft"), {"procedure": birth.procedure_id, "agency": new.pk})
    assert response["Location"] == url("workflow-version", draft.pk)
    # Copy and publish all: every item with a former workflow is done.
    response = client.post(url("workflow-checklist-copy"), {"publish": "1"})
    assert response.status_code == 200
    report = response.context["report"]
    open_left = ChecklistItem.objects.filter(agency=new, done_at__isnull=True)
    published_procedures = {v.workflow.procedure_id for v in report["published"]}
    assert birth.procedure_id in published_procedures
    assert not open_left.filter(procedure_id__in=published_procedures).exists()
    assert set(open_left.values_list("procedure__name", flat=True)) == set(report["problems"])
    birth.refresh_from_db()
    assert birth.done_by == merged["admin_new"].user and birth.version.state == Version.State.PUBLISHED
    page = client.get(url("workflow-checklist")).content.decode()
    assert said("published by %(who)s at %(at)s", who="Lê Thị Mới",
                at=timezone.localtime(birth.done_at).strftime("%H:%M %d/%m/%Y")) in page  # fmt: skip
    # Done items come after the open ones.
    states = [item.done_at is None for item in client.get(url("workflow-checklist")).context["page"]]
    assert states == sorted(states, reverse=True)


def test_a_province_administrator_copies_for_one_agency(client, merged):  # type: ignore[no-untyped-def]
    new = Agency.objects.get(key=NEW_KEY)
    signed_in(client, merged["province"])
    assert client.post(url("workflow-checklist-copy"), {"publish": "1"}).status_code == 404  # which agency?
    response = client.post(url("workflow-checklist-copy"), {"agency": new.pk})
    assert response.status_code == 200 and response.context["agency"] == new
    assert Version.objects.filter(workflow__agency=new, state=Version.State.DRAFT).count() == len(
        response.context["report"]["drafts"]
    )
    assert not ChecklistItem.objects.filter(agency=new, done_at__isnull=False).exists()


# Query counts ----------------------------------------------------------------------------------------------------


def test_the_list_page_has_a_fixed_number_of_queries(client, people, django_assert_num_queries):  # type: ignore[no-untyped-def]
    signed_in(client, people["province"])
    merge_record(sources=[agency(A), agency(B)], effective_date=today(), decision="NQ 1", new=new_agency())
    # user, staff; agencies and units of the form; reorganisations: count, page, their agencies
    with django_assert_num_queries(7):
        response = client.get(url("reorganisations"))
    assert len(response.context["page"]) == 1
    for n, key in enumerate(["stp", "stc", "snv", "syt"]):
        merge_record(sources=[agency(key)], target=agency("sct"), effective_date=today(), decision=f"QĐ {n}")
    with django_assert_num_queries(7):
        response = client.get(url("reorganisations"))
    assert len(response.context["page"]) == 5


def test_the_checklist_page_has_a_fixed_number_of_queries(client, merged, django_assert_num_queries):  # type: ignore[no-untyped-def]
    signed_in(client, merged["admin_new"])
    # user, staff; items: count, page
    with django_assert_num_queries(4):
        response = client.get(url("workflow-checklist"))
    count = len(response.context["page"])
    client.post(url("workflow-checklist-copy"), {"publish": "1"})  # done items show who published which version
    with django_assert_num_queries(4):
        response = client.get(url("workflow-checklist"))
    assert len(response.context["page"]) == count
    signed_in(client, merged["province"])
    new = Agency.objects.get(key=NEW_KEY)
    # user, staff; the agencies of the filter; items: count, page
    with django_assert_num_queries(5):
        response = client.get(url("workflow-checklist"), {"agency": new.pk})
    assert len(response.context["page"]) == count


# The core fix these pages rely on --------------------------------------------------------------------------------


def test_the_service_centres_officer_follows_the_counter_that_closed(people):  # type: ignore[no-untyped-def]
    """A provincial department's counter at the service centre closes with it; the centre's officer who staffed it
    staffs the successor's counter (keeping the centre as agency), so they can still return its open dossiers."""
    from organizations.models import Counter

    counter = Counter.objects.get(agency__key="ttpvhcc", code="sct")
    desk = staff("mc.sct", role=Role.ONE_STOP_OFFICER, agency_key="ttpvhcc", counter=counter)
    other = staff("mc.stp", role=Role.ONE_STOP_OFFICER, agency_key="ttpvhcc",
                  counter=Counter.objects.get(agency__key="ttpvhcc", code="stp"))  # fmt: skip
    province = agency("ubnd_tinh")
    reorganisation = merge_record(
        sources=[agency("sct"), agency("skhcn")], effective_date=today(), decision="NQ 15",
        new=NewAgency(key="sctkhcn", identifier="000.00.30.H01", name="Sở Công Thương và Khoa học",
                      short_name="", level=Agency.Level.PROVINCE, kind=Agency.Kind.DEPARTMENT,
                      unit=province.unit, parent=province),
    )  # fmt: skip
    report = reorganisation_apply(reorganisation_id=reorganisation.pk)
    desk.refresh_from_db()
    counter.refresh_from_db()
    assert desk.agency.key == "ttpvhcc" and desk.counter.code == "sctkhcn" and desk.counter.is_active
    assert not counter.is_active and counter.successor == desk.counter
    other.refresh_from_db()
    assert other.counter.code == "stp"  # another department's counter is untouched
    assert report.staff_moved == 1
