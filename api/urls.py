from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("v1/procedures/", views.ProcedureListView.as_view(), name="procedure-list"),
    path("v1/procedures/<str:code>/", views.ProcedureDetailView.as_view(), name="procedure-detail"),
    path("v1/agencies/", views.AgencyListView.as_view(), name="agency-list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
