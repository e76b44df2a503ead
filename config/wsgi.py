import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# The public lookup API is answered before the framework's request cycle (see api/fastpath.py).
from api.fastpath import LookupFastPath  # noqa: E402 - needs the configured Django above

application = LookupFastPath(django_application)
