import sys
import time

from django.core.management.base import BaseCommand, CommandError

from dossiers.generate import dossiers_generate


class Command(BaseCommand):
    help = "Create N realistic dossiers quickly (PostgreSQL COPY), with consistent codes and register numbers."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--days", type=int, default=365, help="spread over this many working days")
        parser.add_argument("--seed", type=int, default=2025)

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        if opts["count"] < 1:
            raise CommandError("--count must be at least 1")
        started = time.perf_counter()

        def progress(done: int) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            sys.stderr.write(f"\r  {done:>10,} / {opts['count']:,} dossiers  ({rate:,.0f}/s)")
            sys.stderr.flush()

        made = dossiers_generate(count=opts["count"], days=opts["days"], seed=opts["seed"], progress=progress)
        sys.stderr.write("\n")
        self.stdout.write(self.style.SUCCESS(f"{made} dossiers in {time.perf_counter() - started:.1f} s"))
