"""CI: every user-facing string has a Vietnamese translation.

Re-extracts the catalogue from the source (so a new string cannot slip past), then fails on any Vietnamese
entry that is untranslated or fuzzy.
"""

import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"]


def main() -> int:
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "vi",
            "--no-location",
            "--no-obsolete",
            "-v",
            "0",
            "--ignore=.venv",
            "--ignore=.dev",
            "--ignore=tests",
            "--ignore=scripts",
            "--ignore=bench",
        ],
        cwd=ROOT,
        check=True,
    )
    missing = []
    for path in CATALOGUES:
        po = polib.pofile(str(path))
        missing += [f"{path.name}: {e.msgid!r}" for e in po.untranslated_entries() + po.fuzzy_entries()]
    if missing:
        print("Untranslated Vietnamese strings (add them to locale/vi/LC_MESSAGES/django.po):")
        print("\n".join(f"  {m}" for m in missing))
        return 1
    print(f"All strings translated ({sum(len(polib.pofile(str(p)).translated_entries()) for p in CATALOGUES)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
