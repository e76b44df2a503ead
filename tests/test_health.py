import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

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
    # A real worker on the real Redis broker, in a thread of this process. Without the Django fix-up: it would
    # close this test's database connection when the worker starts.
    worker_app = Celery("health-probe", broker=settings.CELERY_BROKER_URL, fixups=[])
    with start_worker(worker_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # start_worker returns before the worker listens for broadcasts: wait until it answers a ping at all
        # (on a loaded machine that can take seconds), then ask the health endpoint.
        deadline = time.monotonic() + 20
        while not worker_app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["celery"]["workers"]
