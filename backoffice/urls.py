from django.contrib.auth.views import LogoutView
from django.urls import include, path, register_converter

from . import designer, notices, sync, views, work


class FormatConverter:
    regex = "html|pdf"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "fmt")
app_name = "backoffice"

urlpatterns = [
    path("dang-nhap/", views.LoginView.as_view(), name="login"),
    path("dang-xuat/", LogoutView.as_view(next_page="backoffice:login"), name="logout"),
    path("", views.home, name="home"),
    path("tiep-nhan/", views.intake_start, name="intake-start"),
    path("tiep-nhan/<str:code>/", views.intake, name="intake"),
    path("ho-so/<str:code>/", work.dossier_detail, name="dossier"),
    path("ho-so/<str:code>/giay-tiep-nhan.<fmt:fmt>", views.receipt, name="receipt"),
    path("ho-so/<str:code>/phieu-kiem-soat.<fmt:fmt>", views.control_sheet, name="control-sheet"),
    path("tu-choi/<int:pk>/", views.refusal, name="refusal"),
    path("tu-choi/<int:pk>/phieu.<fmt:fmt>", views.refusal_form, name="refusal-form"),
    path("so-theo-doi/", views.register, name="register"),
    # Work queues and the engine's actions (backoffice/work.py)
    path("viec-cua-toi/", work.queues, name="queues"),
    path("thong-bao/<int:pk>/da-doc/", work.notification_read, name="notification-read"),
    path("ho-so/<str:code>/xu-ly/<str:action>/", work.act, name="act"),
    path("ho-so/<str:code>/dinh-kem/<int:pk>/", work.attachment, name="attachment"),
    # Notices issued while processing: forms 2, 4 and 5 (backoffice/notices.py)
    path("ho-so/<str:code>/phieu/<int:pk>.<fmt:fmt>", notices.notice, name="notice"),
    # Workflow designer (backoffice/designer.py)
    path("quy-trinh/", designer.index, name="workflows"),
    path("quy-trinh/tao/", designer.draft, name="workflow-draft"),
    path("quy-trinh/phien-ban/<int:pk>/", designer.version, name="workflow-version"),
    path("quy-trinh/phien-ban/<int:pk>/buoc/", designer.step_add, name="workflow-step-add"),
    path("quy-trinh/buoc/<int:pk>/", designer.step_edit, name="workflow-step"),
    path("quy-trinh/buoc/<int:pk>/di-chuyen/<str:direction>/", designer.step_move, name="workflow-step-move"),
    path("quy-trinh/buoc/<int:pk>/xoa/", designer.step_remove, name="workflow-step-remove"),
    path("quy-trinh/phien-ban/<int:pk>/so-do.svg", designer.diagram, name="workflow-diagram"),
    path("quy-trinh/phien-ban/<int:pk>/kiem-tra/", designer.check, name="workflow-check"),
    path("quy-trinh/phien-ban/<int:pk>/ban-hanh/", designer.publish, name="workflow-publish"),
    path("quy-trinh/phien-ban/<int:pk>/ap-dung/", designer.apply, name="workflow-apply"),
    # National portal sync monitor (backoffice/sync.py)
    path("dong-bo/", sync.monitor, name="sync"),
    path("dong-bo/thong-diep/<int:pk>/", sync.message, name="sync-message"),
    path("dong-bo/gui-lai/", sync.retry, name="sync-retry"),
    path("dong-bo/doi-soat/", sync.reconcile, name="sync-reconcile"),
    path("dong-bo/gui-danh-muc/", sync.catalogue, name="sync-catalogue"),
    # Online forms (eForms) of procedures (backoffice/eforms.py); citizens' feedback (PAKN) answered by officers
    # (backoffice/pakn.py).
    path("", include("backoffice.online")),
    path("", include("backoffice.eforms")),
    path("", include("backoffice.pakn")),
    path("", include("backoffice.focal")),  # the register of focal officers (backoffice/focal.py)
    path("", include("backoffice.stats")),
    path("", include("backoffice.reorganisation")),  # reorganisations and the workflow checklist
]
