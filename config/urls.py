from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from core.health import healthz

admin.site.site_header = _("Administrative procedure information system — administration")
admin.site.site_title = _("System administration")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("quan-tri/", admin.site.urls),
    path("api/", include("api.urls")),
    path("mot-cua/", include("backoffice.urls")),
    # Citizens' single sign-on (OpenID Connect): /oidc/authenticate/, /oidc/callback/ (portal/accounts.py).
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("portal.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
