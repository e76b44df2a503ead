from django.urls import include, path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("ngon-ngu/<str:code>/", views.language, name="language"),
    path("thu-tuc/", views.catalogue, name="catalogue"),
    path("thu-tuc/<str:code>/", views.procedure_detail, name="procedure"),
    path("thu-tuc/<str:code>/mau/<int:order>/", views.component_template, name="component-template"),
    path("tra-cuu/", views.lookup, name="lookup"),
    path("tra-cuu/<str:code>/", views.lookup_code, name="lookup-code"),
    path("tra-cuu/<str:code>/qr.svg", views.lookup_qr, name="lookup-qr"),
    # Citizens' accounts and sign-in (portal/accounts.py), online submission and "my dossiers" (portal/online.py),
    # fees through the payment gateway (portal/payments.py), feedback, ratings and FAQ (portal/feedback.py).
    path("", include("portal.accounts")),
    path("", include("portal.online")),
    path("", include("portal.payments")),
    path("", include("portal.feedback")),
]
