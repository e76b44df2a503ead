"""The workflow designer in the back office: administrators build, check, publish and apply workflows."""

import xml.etree.ElementTree as ET

import pytest
from django.utils.html import escape
from django.utils.translation import gettext

from core.errors import PermissionDenied
from organizations.models import Agency, Department, Role
from organizations.services import staff_create
from procedures.models import Procedure
from workflows import services
from workflows.models import Version

from .conftest import PASSWORD
from .dossier_helpers import officer

pytestmark = pytest.mark.django_db

BIRTH = "1.001193"  # Đăng ký khai sinh: 8 working hours at the commune
HOME = "ubnd_30307"  # Phường Long Xuyên
SVG = "{http://www.w3.org/2000/svg}"


def admin(*, agency_key: str = HOME, username: str = "qt.xa", role: str = Role.AGENCY_ADMIN):  # type: ignore[no-untyped-def]
    return staff_create(
        username=username,
        password=PASSWORD,
        agency_identifier=Agency.objects.get(key=agency_key).identifier,
        role=role,
        full_name="Lê Quản Trị",
    )


def other_commune(*, exclude: tuple[str, ...] = (HOME,), count: int = 1) -> list[Agency]:
    return list(Agency.objects.filter(level=Agency.Level.COMMUNE).exclude(key__in=exclude).order_by("key")[:count])


def signed_in(client, staff):  # type: ignore[no-untyped-def]
    assert client.login(username=staff.user.username, password=PASSWORD)
    return client


def step_data(**values) -> dict:  # type: ignore[type-arg]
    """A step form as the browser posts it (prefix "new" for the add form)."""
    prefix = values.pop("prefix", "new")
    data = {"name": "", "kind": "process", "role": "specialist", "department_id": "", "budget": "1",
            "budget_unit": "hours", "national_status": "4", "actions": ["forward", "send_back"]}  # fmt: skip
    data.update(values)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def van_phong(agency: Agency) -> Department:
    return Department.objects.get(agency=agency, kind="van_phong")


def url(name: str, *args) -> str:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    return reverse(f"backoffice:{name}", args=args)


HTMX = {"HTTP_HX_REQUEST": "true"}


def said(message: str, **values: str) -> str:
    """A message as a page shows it: translated, filled in and escaped."""
    return escape(gettext(message) % values if values else gettext(message))


def published_workflow(actor, agency: Agency) -> Version:  # type: ignore[no-untyped-def]
    """A valid 4-step birth-registration workflow of ``agency``, published through the services."""
    procedure = Procedure.objects.get(code=BIRTH)
    draft = services.workflow_draft(actor=actor, procedure=procedure, agency=agency)
    for data in [
        services.StepInput(name="Tiếp nhận hồ sơ", kind="counter", role=Role.ONE_STOP_OFFICER, budget="1",
                           budget_unit="hours", national_status=2, actions=["forward"]),
        services.StepInput(name="Thẩm định hồ sơ", role=Role.SPECIALIST, department_id=van_phong(agency).pk,
                           budget="3", budget_unit="hours", actions=["forward", "send_back", "refuse"]),
        services.StepInput(name="Lãnh đạo ký", kind="sign", role=Role.AGENCY_LEADER, budget="1",
                           budget_unit="hours", actions=["approve", "record_result", "send_back"]),
        services.StepInput(name="Trả kết quả", kind="counter", role=Role.ONE_STOP_OFFICER, budget="1",
                           budget_unit="hours", national_status=9, actions=["return_result"]),
    ]:  # fmt: skip
        services.step_add(actor=actor, version_id=draft.pk, data=data)
    services.version_publish(actor=actor, version_id=draft.pk)
    draft.refresh_from_db()
    return draft


def test_an_agency_admin_builds_checks_and_publishes_a_four_step_workflow(client):
    staff = admin()
    agency = staff.agency
    procedure = Procedure.objects.get(code=BIRTH)
    signed_in(client, staff)

    response = client.post(url("workflow-draft"), {"procedure": procedure.pk, "agency": agency.pk})
    version = Version.objects.get(workflow__procedure=procedure, workflow__agency=agency)
    assert response.status_code == 302 and response.url == url("workflow-version", version.pk)
    page = client.get(response.url).content.decode()
    assert procedure.name in page and said("No steps yet.") in page
    assert f'<option value="{van_phong(agency).pk}">' in page  # departments of the workflow's own agency
    assert f'<option value="{van_phong(other_commune()[0]).pk}">' not in page  # and no other agency's

    # Without JavaScript: plain POST, then redirect.
    add = url("workflow-step-add", version.pk)
    response = client.post(add, step_data(name="Tiếp nhận hồ sơ", kind="counter", role="one_stop_officer",
                                          national_status="2", actions=["forward"]))  # fmt: skip
    assert response.status_code == 302
    # With htmx: the re-rendered designer comes back.
    response = client.post(
        add,
        step_data(name="Thẩm định hồ sơ", department_id=str(van_phong(agency).pk), budget="3",
                  actions=["forward", "send_back", "refuse"]),
        **HTMX,
    )  # fmt: skip
    assert response.status_code == 200 and 'id="designer"' in response.content.decode()
    assert "<html" not in response.content.decode()
    # The last two are added in the wrong order, then moved.
    client.post(add, step_data(name="Trả kết quả", kind="counter", role="one_stop_officer", national_status="9",
                               actions=["return_result"]))  # fmt: skip
    client.post(add, step_data(name="Lãnh đạo ký", kind="sign", role="agency_leader",
                               actions=["approve", "record_result", "send_back"]))  # fmt: skip

    # A field error appears beside the field, and nothing is saved.
    response = client.post(add, step_data(name="", budget="0"))
    assert response.status_code == 400
    html = response.content.decode()
    assert said("Enter the step's name.") in html
    assert said("Enter a time budget above zero, e.g. 0,5 or 2.") in html
    assert version.steps.count() == 4

    # The check finds the counter's step is not last; the errors come back as an htmx partial.
    response = client.get(url("workflow-check", version.pk), **HTMX)
    assert response.status_code == 200
    assert said("Step “%(step)s” has no way forward (forward or approve).", step="3. Trả kết quả") in (
        response.content.decode()
    )
    response = client.post(url("workflow-publish", version.pk))
    assert response.status_code == 400
    version.refresh_from_db()
    assert version.state == Version.State.DRAFT

    sign = version.steps.get(name="Lãnh đạo ký")
    response = client.post(url("workflow-step-move", sign.pk, "len"), **HTMX)
    assert response.status_code == 200
    assert list(version.steps.order_by("position").values_list("name", flat=True)) == [
        "Tiếp nhận hồ sơ", "Thẩm định hồ sơ", "Lãnh đạo ký", "Trả kết quả"]  # fmt: skip

    # Inline edit: the row's form, an error beside its field, then a save that returns the table.
    review = version.steps.get(name="Thẩm định hồ sơ")
    response = client.get(url("workflow-step", review.pk), **HTMX)
    html = response.content.decode()
    assert html.startswith(f'<tr id="step-{review.pk}">') and f'name="step{review.pk}-name"' in html
    assert 'value="Thẩm định hồ sơ"' in html
    edit = step_data(prefix=f"step{review.pk}", name="", department_id=str(van_phong(agency).pk), budget="2,5",
                     actions=["forward", "send_back"])  # fmt: skip
    response = client.post(url("workflow-step", review.pk), edit, **HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == f"#step-{review.pk}"
    html = response.content.decode()
    assert html.startswith(f'<tr id="step-{review.pk}">') and said("Enter the step's name.") in html
    edit[f"step{review.pk}-department_id"] = "999999"  # not a department of this agency: refused beside the field
    html = client.post(url("workflow-step", review.pk), edit).content.decode()  # without htmx: the edit page
    assert 'class="form-row has-error"' in html and "999999" in html.split(f'id="id_step{review.pk}-department_id"')[1]
    edit[f"step{review.pk}-department_id"] = str(van_phong(agency).pk)
    edit[f"step{review.pk}-name"] = "Thẩm định, xử lý hồ sơ"
    response = client.post(url("workflow-step", review.pk), edit, **HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == "#designer"
    assert "Thẩm định, xử lý hồ sơ" in response.content.decode()
    review.refresh_from_db()
    assert review.name == "Thẩm định, xử lý hồ sơ" and str(review.budget) == "2.5"

    # An extra step is added and removed; positions close up.
    client.post(add, step_data(name="Bước thừa"))
    extra = version.steps.get(name="Bước thừa")
    assert client.post(url("workflow-step-remove", extra.pk)).status_code == 302
    assert list(version.steps.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4]

    response = client.get(url("workflow-check", version.pk))  # without htmx: the whole page with the result
    assert said("The workflow may be published.") in response.content.decode()
    response = client.post(url("workflow-publish", version.pk))
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.state == Version.State.PUBLISHED and version.published_by == staff.user
    page = client.get(url("workflow-version", version.pk)).content.decode()
    assert said("Edit (create a new draft)") in page and url("workflow-step-add", version.pk) not in page


def test_another_agency_admin_gets_not_found_or_forbidden(client):
    owner = admin()
    version = published_workflow(owner, owner.agency)
    step = version.steps.first()
    stranger = admin(agency_key=other_commune()[0].key, username="qt.xa.khac")
    signed_in(client, stranger)
    assert client.get(url("workflow-version", version.pk)).status_code == 404
    assert client.get(url("workflow-diagram", version.pk)).status_code == 404
    assert client.get(url("workflow-check", version.pk)).status_code == 404
    assert client.post(url("workflow-publish", version.pk)).status_code == 404
    assert client.post(url("workflow-step-add", version.pk), step_data(name="x")).status_code == 404
    assert client.get(url("workflow-step", step.pk)).status_code == 404
    assert client.post(url("workflow-step-remove", step.pk)).status_code == 404
    assert client.post(url("workflow-apply", version.pk), {"apply-agencies": [stranger.agency_id]}).status_code == 404
    response = client.post(
        url("workflow-draft"), {"procedure": version.workflow.procedure_id, "agency": owner.agency_id}
    )
    assert response.status_code == 403
    assert said("Only the agency's administrators may change its workflows.") in response.content.decode()
    assert Version.objects.filter(workflow=version.workflow).count() == 1
    index = client.get(url("workflows"))
    assert version.workflow not in list(index.context["workflows"])


def test_a_specialist_is_refused_and_sees_no_link(client):
    owner = admin()
    version = published_workflow(owner, owner.agency)
    specialist = officer(username="chuyenvien", role="specialist")
    signed_in(client, specialist)
    refused = said("Only agency and province administrators configure workflows.")
    for response in [
        client.get(url("workflows")),
        client.get(url("workflow-version", version.pk)),
        client.post(url("workflow-draft"), {"procedure": version.workflow.procedure_id, "agency": owner.agency_id}),
    ]:
        assert response.status_code == 403 and refused in response.content.decode()
    assert url("workflows") not in client.get(url("home")).content.decode()
    assert not Version.objects.filter(state=Version.State.DRAFT).exists()
    # The services refuse too, whatever page the request came from.
    with pytest.raises(PermissionDenied):
        services.workflow_apply(actor=specialist, source_id=version.pk, agencies=[specialist.agency])


def test_admins_see_the_link(client):
    signed_in(client, admin())
    assert url("workflows") in client.get(url("home")).content.decode()


def test_publishing_a_published_version_is_refused(client):
    staff = admin()
    version = published_workflow(staff, staff.agency)
    signed_in(client, staff)
    response = client.post(url("workflow-publish", version.pk))
    assert response.status_code == 409
    assert said("Only a draft can be edited; a published version is changed through a new draft.") in (
        response.content.decode()
    )
    step = version.steps.first()
    assert client.get(url("workflow-step", step.pk)).status_code == 409
    assert client.post(url("workflow-step-remove", step.pk)).status_code == 409
    assert version.steps.count() == 4
    version.refresh_from_db()
    assert version.state == Version.State.PUBLISHED


def test_editing_a_published_version_makes_a_new_draft(client):
    staff = admin()
    published = published_workflow(staff, staff.agency)
    signed_in(client, staff)
    data = {"procedure": published.workflow.procedure_id, "agency": staff.agency_id}
    response = client.post(url("workflow-draft"), data)
    draft = Version.objects.get(workflow=published.workflow, state=Version.State.DRAFT)
    assert response.url == url("workflow-version", draft.pk)
    assert draft.number == 2 and draft.based_on == published
    assert list(draft.steps.values_list("name", flat=True)) == list(published.steps.values_list("name", flat=True))
    assert client.post(url("workflow-draft"), data).url == response.url  # the same draft, not a third version
    step = draft.steps.get(position=4)
    client.post(url("workflow-step-remove", step.pk))
    assert published.steps.count() == 4 and draft.steps.count() == 3


def test_province_admin_applies_to_several_communes_with_their_own_departments(client, province_admin):
    source = published_workflow(province_admin, Agency.objects.get(key=HOME))
    targets = other_commune(count=3)
    signed_in(client, province_admin)
    page = client.get(url("workflow-version", source.pk)).content.decode()
    assert 'name="apply-agencies"' in page
    response = client.post(
        url("workflow-apply", source.pk), {"apply-agencies": [a.pk for a in targets], "apply-publish": "on"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="apply"' in html
    for agency in targets:
        assert agency.name in html
        version = Version.objects.get(workflow__agency=agency, workflow__procedure=source.workflow.procedure)
        assert version.state == Version.State.PUBLISHED and version.based_on == source
        review = version.steps.get(key=source.steps.get(position=2).key)
        assert review.agency == agency and review.department == van_phong(agency)
        assert set(version.steps.values_list("agency_id", flat=True)) == {agency.pk}

    # Without htmx: a redirect, and the report in the messages. Unticked "publish" leaves drafts.
    more = other_commune(exclude=(HOME, *[a.key for a in targets]))
    response = client.post(url("workflow-apply", source.pk), {"apply-agencies": [more[0].pk]})
    assert response.status_code == 302
    assert Version.objects.get(workflow__agency=more[0]).state == Version.State.DRAFT
    # Nothing chosen: an error beside the field.
    response = client.post(url("workflow-apply", source.pk), {"apply-publish": "on"})
    assert response.status_code == 400 and said("Choose at least one agency.") in response.content.decode()


def test_all_communes_shortcut_selects_every_commune(client, province_admin):
    source = published_workflow(province_admin, Agency.objects.get(key=HOME))
    signed_in(client, province_admin)
    response = client.post(url("workflow-apply", source.pk), {"apply-all_communes": "on"}, **HTMX)
    assert response.status_code == 200
    communes = Agency.objects.filter(level=Agency.Level.COMMUNE).exclude(key=HOME)
    drafts = Version.objects.filter(workflow__procedure=source.workflow.procedure, state=Version.State.DRAFT)
    assert drafts.count() == communes.count() > 50
    assert not drafts.filter(workflow__agency__level=Agency.Level.PROVINCE).exists()


def test_an_agency_admin_copies_another_agencys_workflow_into_its_draft(client, province_admin):
    source = published_workflow(province_admin, Agency.objects.get(key=HOME))
    target = other_commune()[0]
    staff = admin(agency_key=target.key, username="qt.xa.khac")
    signed_in(client, staff)
    procedure = source.workflow.procedure
    response = client.post(url("workflow-draft"), {"procedure": procedure.pk, "agency": target.pk})
    draft = Version.objects.get(workflow__agency=target, state=Version.State.DRAFT)
    page = client.get(response.url).content.decode()
    assert f'<option value="{source.pk}">' in page
    response = client.post(url("workflow-apply", draft.pk), {"source": source.pk})
    copy = Version.objects.get(workflow__agency=target, state=Version.State.DRAFT)
    assert response.status_code == 302 and response.url == url("workflow-version", copy.pk)
    assert copy.steps.get(position=2).department == van_phong(target)
    # Only versions offered in the list may be copied.
    assert client.post(url("workflow-apply", copy.pk), {"source": copy.pk}).status_code == 400
    # An agency admin cannot apply its own workflow to other agencies.
    response = client.post(url("workflow-apply", copy.pk), {"apply-agencies": [source.workflow.agency_id]})
    assert response.status_code == 403
    assert said("Only province administrators apply a workflow to other agencies.") in response.content.decode()


def test_the_needs_configuration_list_shrinks_after_publishing(client):
    staff = admin()
    signed_in(client, staff)
    procedure = Procedure.objects.get(code=BIRTH)
    response = client.get(url("workflows"), {"q": "khai sinh"})
    todo = [(c.procedure_id, c.agency_id) for c in response.context["todo"]]
    assert (procedure.pk, staff.agency_id) in todo
    assert {agency for _procedure, agency in todo} == {staff.agency_id}  # only the admin's own agency
    before = client.get(url("workflows")).context["todo"].paginator.count
    assert before > 0
    published_workflow(staff, staff.agency)
    response = client.get(url("workflows"), {"q": "khai sinh"})
    assert (procedure.pk, staff.agency_id) not in [(c.procedure_id, c.agency_id) for c in response.context["todo"]]
    assert client.get(url("workflows")).context["todo"].paginator.count == before - 1
    [workflow] = response.context["workflows"]
    assert workflow.published_number == 1 and workflow.draft_id is None
    assert said("Needs configuration") in response.content.decode()


def test_the_diagram_is_valid_svg_with_the_step_names(client):
    staff = admin()
    version = published_workflow(staff, staff.agency)
    draft = services.workflow_draft(actor=staff, procedure=version.workflow.procedure, agency=staff.agency)
    first = draft.steps.get(position=1)
    services.step_update(
        actor=staff,
        step_id=first.pk,
        data=services.StepInput(name="Tiếp nhận <hồ sơ> & “kiểm tra”", kind="counter", role=Role.ONE_STOP_OFFICER,
                                budget="0,5", budget_unit="hours", national_status=2, actions=["forward"],
                                next_keys=[draft.steps.get(position=3).key]),
    )  # fmt: skip
    signed_in(client, staff)
    response = client.get(url("workflow-diagram", draft.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own response, in a test
    assert root.tag == f"{SVG}svg"
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for name in ["Tiếp nhận <hồ sơ> & “kiểm tra”", "Thẩm định hồ sơ", "Lãnh đạo ký", "Trả kết quả"]:
        assert name in texts
    assert "0,5" in texts and van_phong(staff.agency).name in texts
    assert len(list(root.iter(f"{SVG}rect"))) == 4
    assert len(list(root.iter(f"{SVG}path"))) >= 2  # the marker, and the jump from step 1 to step 3 beside
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert len(fills) == 3  # counter, process and signature steps in different colours
    # The same drawing is inline on the version page.
    assert "<svg" in client.get(url("workflow-version", draft.pk)).content.decode()


def test_index_query_count_is_pinned(client, django_assert_num_queries, province_admin):
    staff = admin()
    published_workflow(staff, staff.agency)
    for agency in other_commune(count=3):
        published_workflow(province_admin, agency)
    signed_in(client, staff)
    # user, staff (the session is read from Redis); the reorganisation checklist's banner (count);
    # workflows: count + page; needs configuration: count + page
    with django_assert_num_queries(7):
        response = client.get(url("workflows"))
    assert len(response.context["workflows"]) == 1
    signed_in(client, province_admin)
    with django_assert_num_queries(7):
        response = client.get(url("workflows"), {"q": "khai sinh", "todo_page": "2"})
    assert len(response.context["workflows"]) == 4
    assert len(response.context["todo"]) == 50


@pytest.mark.browser
def test_browser_an_admin_configures_a_workflow_with_htmx(live_server, reseeded, page):
    staff = admin()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + url("workflows") + "?q=khai+sinh")
    page.get_by_label("Tên đăng nhập").fill(staff.user.username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.locator(
        "form", has=page.locator(f'input[name="procedure"][value="{Procedure.objects.get(code=BIRTH).pk}"]')
    ).get_by_role("button").click()
    version = Version.objects.get(workflow__agency=staff.agency)
    expect_url = live_server.url + url("workflow-version", version.pk)
    page.wait_for_url(expect_url)

    def add(name: str, kind: str, role: str, actions: list[str], department: bool = False) -> None:
        form = page.locator("#designer form").last
        form.locator('input[name="new-name"]').fill(name)
        form.locator('select[name="new-kind"]').select_option(kind)
        form.locator('select[name="new-role"]').select_option(role)
        if department:
            form.locator('select[name="new-department_id"]').select_option(str(van_phong(staff.agency).pk))
        form.locator('input[name="new-budget"]').fill("1")
        form.locator('select[name="new-budget_unit"]').select_option("hours")
        for box in form.locator('input[name="new-actions"]').all():
            box.set_checked(box.get_attribute("value") in actions)
        with page.expect_response(lambda r: r.url.endswith(url("workflow-step-add", version.pk))):
            form.get_by_role("button").click()
        page.locator("#designer table", has_text=name).wait_for()

    add("Tiếp nhận hồ sơ", "counter", "one_stop_officer", ["forward"])
    add("Thẩm định hồ sơ", "process", "specialist", ["forward", "send_back"], department=True)
    add("Trả kết quả", "counter", "one_stop_officer", ["return_result"])
    add("Lãnh đạo ký", "sign", "agency_leader", ["approve", "record_result"])
    assert page.url == expect_url  # htmx swapped the table, no page load
    sign = version.steps.get(name="Lãnh đạo ký")
    page.locator(f"#step-{sign.pk} button").first.click()  # ↑
    page.wait_for_function(
        "() => document.querySelector('#designer tbody tr:nth-child(3) td:nth-child(2)')"
        ".textContent.includes('Lãnh đạo ký')"
    )
    page.get_by_role("link", name=gettext("Edit"), exact=True).first.click()
    first = version.steps.get(position=1)
    page.locator(f'#step-{first.pk} input[name="step{first.pk}-name"]').fill("")
    page.locator(f"#step-{first.pk} form").get_by_role("button", name=gettext("Save")).click()
    page.locator(f"#step-{first.pk} .error").first.wait_for()
    page.locator(f'#step-{first.pk} input[name="step{first.pk}-name"]').fill("Tiếp nhận và chuyển hồ sơ")
    page.locator(f"#step-{first.pk} form").get_by_role("button", name=gettext("Save")).click()
    page.locator("#designer table", has_text="Tiếp nhận và chuyển hồ sơ").wait_for()
    page.get_by_role("button", name=gettext("Check")).click()
    page.locator("#check-result .card").wait_for()
    page.get_by_role("button", name=gettext("Publish")).click()
    page.wait_for_url(expect_url)
    page.get_by_role("button", name=gettext("Edit (create a new draft)")).wait_for()
    version.refresh_from_db()
    assert version.state == Version.State.PUBLISHED
