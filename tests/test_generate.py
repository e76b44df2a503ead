"""The bulk generator writes dossiers the services could have written, tasks included."""

from django.db.models import Count, F

from dossiers.generate import IN_FLIGHT, dossiers_generate
from dossiers.models import Dossier, Status, Task
from organizations.models import Agency
from workflows.standard import standard_workflows_publish


def test_generated_dossiers_are_consistent_and_in_flight_ones_sit_on_a_step(db):  # type: ignore[no-untyped-def]
    standard_workflows_publish(agency=Agency.objects.get(key="ubnd_30307"))
    made = dossiers_generate(count=2000, days=30)
    assert made == Dossier.objects.count() == 2000
    codes = Dossier.objects.exclude(code=None).values("code").annotate(n=Count("id")).filter(n__gt=1)
    assert not codes.exists()
    on_workflow = Dossier.objects.filter(workflow_version__isnull=False)
    assert on_workflow.exists()
    assert not on_workflow.exclude(status__in=IN_FLIGHT).exists()
    # Each one has exactly its current task open, on a step of its own version and agency's departments.
    assert on_workflow.filter(current_task__dossier_id=F("pk"), current_task__finished_at=None).count() == (
        on_workflow.count()
    )
    assert not on_workflow.exclude(current_task__step__version_id=F("workflow_version_id")).exists()
    assert Task.objects.count() == on_workflow.count()
    waiting = on_workflow.filter(status=Status.WAITING_SUPPLEMENT)
    assert not waiting.filter(current_task__paused_at=None).exists()
    assert not waiting.filter(supplement_count=0).exists()
    resolved = on_workflow.filter(status=Status.RESOLVED)
    assert not resolved.exclude(current_task__step__kind="counter").exists()
    assert not Task.objects.exclude(due_at__gt=F("entered_at")).exists()
