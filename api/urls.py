from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import actions, dossiers, inbound, stats, units, views
from .calendar import DueDateView

app_name = "api"

urlpatterns = [
    path("v1/procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path("v1/procedures/<str:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"),
    path("v1/agencies/", views.AgencyListView.as_view(), name="agency-list"),
    path("v1/calendar/due-date/", DueDateView.as_view(), name="calendar-due-date"),
    path("v1/units/communes/", units.CommuneListView.as_view(), name="unit-communes"),
    path("v1/auth/token/", dossiers.TokenView.as_view(), name="token"),
    path("v1/dossiers/", dossiers.DossierCreateView.as_view(), name="dossier-create"),
    path("v1/dossiers/<str:code>/", dossiers.DossierDetailView.as_view(), name="dossier-detail"),
    path("v1/dossiers/<str:code>/actions/", actions.ActionListView.as_view(), name="dossier-actions"),
    path("v1/dossiers/<str:code>/actions/<str:action>/", actions.ActionView.as_view(), name="dossier-action"),
    path("v1/dossiers/<str:code>/receipt.pdf", dossiers.ReceiptView.as_view(), name="dossier-receipt"),
    path("v1/lookup/<str:code>/", dossiers.LookupView.as_view(), name="lookup"),
    path("v1/inbound/dossiers/", inbound.InboundDossierView.as_view(), name="inbound-dossiers"),
    path("v1/thong-ke/tiep-nhan-giai-quyet/", stats.IntakeAndResolutionView.as_view(), name="stats-intake"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
