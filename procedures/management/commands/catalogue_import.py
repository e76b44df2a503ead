import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext
from tqdm import tqdm

from core.errors import ValidationFailed
from procedures.importing import READERS, catalogue_import, import_format


class Command(BaseCommand):
    help = (
        "Import an export of the national catalogue (JSON or XLSX, see docs/catalogue-import.md): procedures are "
        "created, updated and closed, each with its message to the national portal. Exits 1 if a row failed."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=sorted(READERS), default="", help="default: the file's extension")
        parser.add_argument(
            "--close-missing",
            action="store_true",
            help="also close the published procedures the export does not list",
        )

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        path: Path = opts["file"]
        try:
            file_format = import_format(name=path.name, given=opts["format"])
            with path.open("rb") as file:
                rows = READERS[file_format](file)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc

        # The bar goes where the command's errors go (call_command(stderr=...) in tests).
        with tqdm(total=len(rows), unit=" TTHC", file=opts.get("stderr") or sys.stderr) as bar:

            def progress(done: int, total: int) -> None:
                if bar.total != total:
                    bar.total = total
                    bar.refresh()
                bar.update(done - bar.n)

            report = catalogue_import(rows=rows, progress=progress, close_missing=opts["close_missing"])

        self.stdout.write(report.summary())
        for line in report.error_lines():
            self.stderr.write(line)
        if report.errors:
            count = len(report.errors)
            raise CommandError(ngettext("%(count)d error.", "%(count)d errors.", count) % {"count": count})
