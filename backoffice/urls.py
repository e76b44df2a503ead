from django.contrib.auth.views import LogoutView
from django.urls import path, register_converter

from . import views


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
    path("ho-so/<str:code>/", views.dossier_detail, name="dossier"),
    path("ho-so/<str:code>/giay-tiep-nhan.<fmt:fmt>", views.receipt, name="receipt"),
    path("ho-so/<str:code>/phieu-kiem-soat.<fmt:fmt>", views.control_sheet, name="control-sheet"),
    path("tu-choi/<int:pk>/", views.refusal, name="refusal"),
    path("tu-choi/<int:pk>/phieu.<fmt:fmt>", views.refusal_form, name="refusal-form"),
    path("so-theo-doi/", views.register, name="register"),
]
