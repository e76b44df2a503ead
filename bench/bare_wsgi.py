"""The ceiling: a bare WSGI app answering the same catalogue search with one indexed query through psycopg.

No Django, no ORM, no serializer: what the database and the HTTP server alone can do on this machine.
"""

import json
import os
import re
import unicodedata
from urllib.parse import parse_qs

import psycopg

# gunicorn's sync workers serve one request at a time: one connection per worker process, opened lazily.
_conn: psycopg.Connection | None = None
SQL = """
SELECT p.code, p.name, f.name, p.level, p.processing_time, p.time_unit, p.online_level
FROM procedures_procedure p JOIN procedures_field f ON f.id = p.field_id
WHERE p.status = 'published' AND p.search_vector @@ to_tsquery('simple', %s)
ORDER BY ts_rank(p.search_vector, to_tsquery('simple', %s), 1) DESC, p.name
LIMIT 20
"""


def _fold(text: str) -> list[str]:
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").replace("đ", "d")
    return re.findall(r"\w+", text)


def application(environ, start_response):  # type: ignore[no-untyped-def]
    q = parse_qs(environ.get("QUERY_STRING", "")).get("q", [""])[0]
    tsquery = " & ".join(f"{w}:*" for w in _fold(q)) or "a"
    global _conn
    if _conn is None:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    rows = _conn.execute(SQL, (tsquery, tsquery)).fetchall()
    body = json.dumps(
        [
            {
                "code": r[0],
                "name": r[1],
                "field": r[2],
                "level": r[3],
                "processing_time": str(r[4]),
                "time_unit": r[5],
                "online_level": r[6],
            }
            for r in rows
        ],
        ensure_ascii=False,
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


LOOKUP_SQL = """
SELECT d.code, d.status, d.applicant_name, d.organisation_name, d.received_at, d.appointment_at, a.name
FROM dossiers_dossier d JOIN organizations_agency a ON a.id = d.agency_id
WHERE d.code = %s AND d.status <> 3
"""


def lookup_application(environ, start_response):  # type: ignore[no-untyped-def]
    """The ceiling for the public lookup: one indexed query, JSON out."""
    global _conn
    if _conn is None:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    code = environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
    row = _conn.execute(LOOKUP_SQL, (code,)).fetchone()
    if row is None:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"code": "dossier_not_found"}']
    body = json.dumps(
        {
            "code": row[0],
            "valid": row[1] != 1,
            "applicant_name": row[2],
            "organisation_name": row[3],
            "received_at": row[4].isoformat() if row[4] else None,
            "appointment_at": row[5].isoformat() if row[5] else None,
            "receiving_agency": row[6],
        },
        ensure_ascii=False,
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


QUEUE_SQL = """
SELECT d.code, p.name, s.name, t.due_at, d.status
FROM dossiers_task t
JOIN dossiers_dossier d ON d.id = t.dossier_id
JOIN procedures_procedure p ON p.id = d.procedure_id
JOIN workflows_step s ON s.id = t.step_id
WHERE t.finished_at IS NULL AND t.department_id = %s AND t.paused_at IS NULL AND t.due_at < now()
ORDER BY t.due_at, t.id
LIMIT 50
"""


def queue_application(environ, start_response):  # type: ignore[no-untyped-def]
    """The ceiling for a work queue page: the page's one list query (a department's overdue tasks), as HTML."""
    global _conn
    if _conn is None:
        _conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    department = int(parse_qs(environ.get("QUERY_STRING", "")).get("department", ["0"])[0])
    rows = _conn.execute(QUEUE_SQL, (department,)).fetchall()
    cells = "".join(
        f"<tr><td>{r[0]}</td><td>{r[1]}</td><td>{r[2]}</td><td>{r[3]:%H:%M %d/%m/%Y}</td></tr>" for r in rows
    )
    body = f"<!doctype html><table>{cells}</table>".encode()
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
