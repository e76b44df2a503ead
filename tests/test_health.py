import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_part_and_503_without_a_worker(client, settings):
    settings.HEALTH_CELERY_TIMEOUT = 0.3
    response = client.get("/healthz")
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert not body["checks"]["celery"]["ok"]
    assert response.status_code == 503


def test_healthz_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert not response.json()["checks"]["redis"]["ok"]


def test_healthz_200_with_a_real_worker(client, settings):
    settings.HEALTH_CELERY_TIMEOUT = 2
    app.loader.import_module("celery.contrib.testing.tasks")
    with start_worker(app, pool="solo", perform_ping_check=True, shutdown_timeout=10):
        response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["celery"]["workers"]
