"""The event log is append-only: the database itself refuses UPDATE and DELETE on it.

Enforced by a trigger rather than by application code, so that no code path (admin, shell, a bug, a raw
query) can rewrite a dossier's history. TRUNCATE stays possible for test-database flushes only.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION dossier_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'dossier events are append-only: % refused on dossiers_event', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER dossier_event_append_only
    BEFORE UPDATE OR DELETE ON dossiers_event
    FOR EACH ROW EXECUTE FUNCTION dossier_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS dossier_event_append_only ON dossiers_event;
DROP FUNCTION IF EXISTS dossier_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
