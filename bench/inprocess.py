"""In-process measurements for `make bench`: intake through the service layer and receipt rendering.

Printed as JSON on stdout for bench/run.py.
"""

import json
import statistics
import time

from django.db import transaction


def _intake_rate(n: int = 200) -> float:
    from dossiers.services import dossier_receive
    from organizations.models import Staff
    from tests.dossier_helpers import intake

    officer = Staff.objects.select_related("agency", "counter", "department", "user").get(
        user__username="motcua.longxuyen"
    )
    data = [intake() for _ in range(n)]
    started = time.perf_counter()
    # Rolled back at the end: the benchmark measures the work, it does not leave dossiers behind.
    with transaction.atomic():
        for item in data:
            dossier_receive(officer=officer, intake=item)
        transaction.set_rollback(True)
    return n / (time.perf_counter() - started)


def _receipt_times(rounds: int = 15) -> tuple[float, float]:
    from weasyprint import HTML

    from dossiers.models import Dossier
    from receipts.services import form1_html, form1_pdf

    dossier = Dossier.objects.filter(code__isnull=False, documents__isnull=False).order_by("-id").first() or (
        Dossier.objects.filter(code__isnull=False).order_by("-id").first()
    )
    app, bare = [], []
    form1_pdf(dossier=dossier)  # warm fonts and templates
    for _ in range(rounds):
        t = time.perf_counter()
        form1_pdf(dossier=dossier)
        app.append(time.perf_counter() - t)
        html = form1_html(dossier=dossier)
        t = time.perf_counter()
        HTML(string=html).write_pdf()
        bare.append(time.perf_counter() - t)
    return statistics.median(app) * 1000, statistics.median(bare) * 1000


def _page_first_view_ms(n: int = 300) -> float:
    """The lookup page rendered by Django (a cache miss), through the whole request cycle."""
    from django.test import Client

    from dossiers.models import Dossier

    codes = list(Dossier.objects.filter(code__isnull=False).exclude(status=3).values_list("code", flat=True)[:n])
    client = Client(HTTP_HOST="127.0.0.1")
    for code in codes[:20]:
        client.get(f"/tra-cuu/{code}/")
    started = time.perf_counter()
    for code in codes:
        client.get(f"/tra-cuu/{code}/")
    return (time.perf_counter() - started) / len(codes) * 1000


def main() -> None:
    page_ms = _page_first_view_ms()
    rate = _intake_rate()
    app_ms, bare_ms = _receipt_times()
    from bench.outbox import measure as outbox_measure

    outbox = outbox_measure()
    # A 10-minute backlog: ten minutes of intake at the rate measured above, each intake writing two messages (the
    # dossier's add and its first progress entry): the most the system itself writes while the portal is away.
    backlog = 600 * rate * 2
    drain_s = backlog / outbox["rate_2"]
    lines = [
        "| measurement | result | baseline | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| Intake through `dossier_receive` (code, appointment, register entry, documents, event), sequential "
        f"| {rate:.0f} dossiers/s | — | — |",
        f"| Lookup page, first view (rendered by Django, then cached), in-process | {page_ms:.1f} ms | — | — |",
        f"| Receipt (form 1, two copies) PDF, median of 15 | {app_ms:.0f} ms | bare WeasyPrint render of the same "
        f"HTML: {bare_ms:.0f} ms | {app_ms / bare_ms:.2f}× |",
        f"| Outbox drain to the national portal simulator, one process ({outbox['messages']:,.0f} messages, batches "
        f"of {outbox['batch']:.0f}) | {outbox['rate_1']:,.0f} messages/s | bare client posting pre-built batches to "
        f"the same simulator: {outbox['bare']:,.0f} items/s | {outbox['rate_1'] / outbox['bare']:.2f}× |",
        f"| Outbox drain, two processes (as two Celery workers) | {outbox['rate_2']:,.0f} messages/s | "
        f"{outbox['bare']:,.0f} items/s | {outbox['rate_2'] / outbox['bare']:.2f}× |",
        f"| Time to drain a 10-minute backlog ({backlog:,.0f} messages: 10 minutes of intake at the rate above, two "
        f"messages each), two processes | {drain_s:.1f} s | — | — |",
    ]
    print(
        json.dumps(
            {"lines": lines, "intake_per_s": rate, "receipt_ms": app_ms, "bare_receipt_ms": bare_ms, "outbox": outbox,
             "backlog": backlog, "drain_s": drain_s}
        )
    )  # fmt: skip
