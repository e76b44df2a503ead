"""Browser journey of a reorganisation: a province administrator merges two provincial departments into a new one;
the new agency's administrator sees the checklist, copies a former workflow and publishes it; a dossier received
before the merger continues with the moved officers and is returned on time, its code unchanged."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from dossiers.engine import ActionInput, dossier_act
from dossiers.models import Dossier, Event, Status
from dossiers.services import dossier_receive
from organizations.models import AdministrativeUnit, Agency, Counter, Reorganisation, Role
from organizations.services import staff_create
from workflows.models import ChecklistItem, Version

from .conftest import PASSWORD
from .dossier_helpers import PDF, intake
from .test_browser_workflow import as_officer, do, sign_in
from .workflow_helpers import handling_department, publish_standard, staff

pytestmark = pytest.mark.browser

WINE = "2.000633"  # Cấp Giấy phép bán buôn sản phẩm rượu (Sở Công Thương)
TECH = "2.001144"  # Đăng ký hợp đồng chuyển giao công nghệ (Sở Khoa học và Công nghệ)
NEW = {"key": "sctkhcn", "identifier": "000.00.30.H01", "name": "Sở Công Thương và Khoa học tỉnh An Giang",
       "short_name": "Sở Công Thương và Khoa học"}  # fmt: skip


def t(message: str) -> str:
    """A label or button as the page shows it (the catalogue's translation, or the English msgid until there is
    one)."""
    return gettext(message)


def act(who, code: str, action: str, **data) -> Dossier:  # type: ignore[no-untyped-def]
    task_id = Dossier.objects.get(code=code).current_task_id
    return dossier_act(officer=who, code=code, action=action, task_id=task_id, data=ActionInput(**data))


def test_a_merger_of_two_departments_from_recording_to_a_dossier_returned_on_time(
    live_server, reseeded, page: Page, settings, province_admin
):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    base = live_server.url
    sct, skhcn = Agency.objects.get(key="sct"), Agency.objects.get(key="skhcn")
    publish_standard(procedure_code=WINE, agency_key="sct")
    publish_standard(procedure_code=TECH, agency_key="skhcn")
    department = handling_department(procedure_code=WINE, agency_key="sct")
    desk = staff("mc.sct", role=Role.ONE_STOP_OFFICER, agency_key="ttpvhcc",
                 counter=Counter.objects.get(agency__key="ttpvhcc", code="sct"), full_name="Phan Thị Quầy")  # fmt: skip
    specialist = staff("cv.sct", role=Role.SPECIALIST, agency_key="sct", department=department,
                       full_name="Võ Văn Thẩm")  # fmt: skip
    head = staff("tp.sct", role=Role.DEPARTMENT_HEAD, agency_key="sct", department=department)
    leader = staff("ld.sct", role=Role.AGENCY_LEADER, agency_key="sct")
    # In flight: received at the service centre's counter of Sở Công Thương, taken by its specialist.
    dossier = dossier_receive(officer=desk, intake=intake(procedure_code=WINE, agency=sct))
    code, appointment = dossier.code, dossier.appointment_at
    act(desk, code, "forward")
    act(specialist, code, "claim")

    # The province administrator records the merger through the form.
    sign_in(page, base, province_admin.user.username)
    page.get_by_role("link", name=t("Reorganisations")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Reorganisations"))
    page.locator("#id_kind").select_option("merge_into")  # htmx swaps in that kind's form...
    expect(page.locator("#id_target")).to_be_visible()
    page.locator("#id_kind").select_option("merge_new")  # ...and back
    expect(page.locator("#id_identifier")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.locator("#id_sources").select_option([str(sct.pk), str(skhcn.pk)])
    page.get_by_label(t("Name of the new agency")).fill(NEW["name"])
    page.locator("#id_short_name").fill(NEW["short_name"])
    page.locator("#id_key").fill(NEW["key"])
    page.locator("#id_identifier").fill(NEW["identifier"])
    page.locator("#id_level").select_option("province")
    page.locator("#id_agency_kind").select_option("department")
    page.locator("#id_unit").select_option(str(AdministrativeUnit.objects.get(kind="province").pk))
    page.locator("#id_parent").select_option(str(Agency.objects.get(key="ubnd_tinh").pk))
    page.locator("#id_effective_date").fill(timezone.localdate().isoformat())
    page.locator("#id_decision").fill("Nghị quyết số 15/NQ-HĐND ngày 20/11/2026 của HĐND tỉnh")
    page.get_by_role("button", name=t("Record the reorganisation")).click()
    page.wait_for_url(re.compile(r"/mot-cua/sap-xep-to-chuc/\d+/"))
    reorganisation = Reorganisation.objects.get()
    assert page.url.startswith(f"{base}/mot-cua/sap-xep-to-chuc/{reorganisation.pk}/")

    # The preview: where the procedure goes and the dossier that moves with it; nothing has changed yet.
    expect(page.get_by_text(t("Open dossiers that will move: %(n)s") % {"n": 1})).to_be_visible()
    row = page.locator("table.preview-procedures tr", has_text=WINE)
    expect(row).to_contain_text(NEW["name"])
    expect(row.locator("td.num")).to_have_text("1")
    assert Dossier.objects.get(code=code).agency == sct

    # Applying it, with the confirmation.
    page.get_by_label(t("I have read the preview: apply this reorganisation now.")).check()
    page.get_by_role("button", name=t("Apply now")).click()
    expect(page.locator(".messages")).to_contain_text(str(1))
    new = Agency.objects.get(key=NEW["key"])
    expect(page.locator("table.report-dossiers")).to_contain_text(f"{sct.name} → {new.name}")
    assert Reorganisation.objects.get().state == Reorganisation.State.APPLIED

    # The new agency's administrator sees the banner and the checklist.
    staff_create(username="qt.sctkhcn", password=PASSWORD, agency_identifier=new.identifier,
                 role=Role.AGENCY_ADMIN, full_name="Lâm Quản Trị")  # fmt: skip
    items = ChecklistItem.objects.filter(agency=new)
    admin = as_officer(page, base, "qt.sctkhcn")
    banner = admin.locator(".checklist-banner")
    expect(banner).to_contain_text(str(items.count()))
    banner.get_by_role("link").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(t("Workflows to configure after a reorganisation"))
    item_row = admin.locator("table.checklist tr", has_text=WINE)
    expect(item_row).to_contain_text(sct.name)  # the former agency
    expect(item_row).to_contain_text("15/NQ-HĐND")  # the decision
    # Copy the former agency's workflow for the dossier's procedure, open the draft and publish it.
    item_row.get_by_role("button", name=t("Copy the former agency's workflow")).click()
    report = admin.locator(".copy-report")
    expect(report).to_contain_text(t("Copied into a draft, to check and publish:"))
    report.get_by_role("link", name=t("open the draft")).click()
    draft = Version.objects.get(workflow__agency=new, workflow__procedure__code=WINE, state=Version.State.DRAFT)
    expect(admin).to_have_url(f"{base}/mot-cua/quy-trinh/phien-ban/{draft.pk}/")
    admin.get_by_role("button", name=t("Publish"), exact=True).click()
    expect(admin.locator(".messages")).to_contain_text(t("Version %(number)s is published.") % {"number": draft.number})
    admin.goto(f"{base}/mot-cua/quy-trinh/can-cau-hinh/")
    done_row = admin.locator("table.checklist tr", has_text=WINE)
    expect(done_row.locator(".badge")).to_have_text(t("done"))
    expect(done_row).to_contain_text("Lâm Quản Trị")
    expect(done_row).to_contain_text(t("version %(number)s") % {"number": draft.number})
    item = items.get(procedure__code=WINE)
    admin.goto(f"{base}/mot-cua/")
    expect(admin.locator(".checklist-banner")).to_contain_text(str(items.count() - 1))
    assert item.done_at is not None and item.version_id == draft.pk

    # The in-flight dossier continues with the officers who moved: the specialist forwards it on the page...
    worker = as_officer(page, base, specialist.user.username)
    worker.goto(f"{base}/mot-cua/ho-so/{code}/")
    expect(worker.get_by_text(re.compile(re.escape(sct.name) + ".*" + re.escape(new.name)))).to_be_visible()
    do(worker, "forward", **{"Ghi chú": "Đủ điều kiện cấp phép"})
    # ...the head of department and the leader (now the new agency's) act through the engine...
    head.refresh_from_db()
    leader.refresh_from_db()
    assert head.agency == leader.agency == new and head.department.agency == new
    act(head, code, "claim")
    act(head, code, "forward")
    act(leader, code, "claim")
    act(leader, code, "record_result", files=[SimpleUploadedFile("giay-phep.pdf", PDF, "application/pdf")])
    act(leader, code, "approve")
    # ...and the service centre's officer, now at the successor counter, returns it on the page.
    desk.refresh_from_db()
    assert desk.counter.code == new.key and desk.counter.is_active
    counter_page = as_officer(page, base, desk.user.username)
    counter_page.goto(f"{base}/mot-cua/ho-so/{code}/")
    do(counter_page, "claim")
    do(counter_page, "return_result")

    dossier = Dossier.objects.get(code=code)
    assert dossier.status == Status.RETURNED and dossier.agency == new
    assert dossier.returned_at <= dossier.appointment_at == appointment
    assert dossier.original_agency == sct and dossier.workflow_version.workflow.agency == new
    event = Event.objects.get(dossier=dossier, action="reorganise")
    assert sct.name in event.note and new.name in event.note and "15/NQ-HĐND" in event.note
    expect(counter_page.locator("body")).to_contain_text("15/NQ-HĐND")  # the log on the dossier page
