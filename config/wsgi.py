import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

# The public lookup (API, and the page when cached) is answered before the framework's request cycle: see
# api/fastpath.py and portal/fastpath.py.
from api.fastpath import LookupFastPath  # noqa: E402 - needs the configured Django above
from portal.fastpath import LookupPageFastPath  # noqa: E402

application = LookupFastPath(LookupPageFastPath(django_application))

# What is loaded by now (settings, URLconf, templates, translations) lives as long as the process: keep it out of
# the garbage collector's way, so that a collection walks only what requests allocate (shorter pauses, fewer tail
# latencies). Each gunicorn worker runs this once, when it loads the application.
import gc  # noqa: E402

gc.freeze()
