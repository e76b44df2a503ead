"""Celery application: workers sync to the national portal and watch deadlines."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("angiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
