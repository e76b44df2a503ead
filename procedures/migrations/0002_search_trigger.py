"""Keep Procedure.search_vector right on every write path with a trigger.

The vector folds case and diacritics with unaccent(lower(...)), the same folding core.text.fold applies to
queries. unaccent is a trusted extension (PostgreSQL 13+), so the database owner may create it.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION procedure_search_vector_update() RETURNS trigger AS $$
DECLARE
    field_name text;
BEGIN
    SELECT name INTO field_name FROM procedures_field WHERE id = NEW.field_id;
    NEW.search_vector :=
        setweight(to_tsvector('simple', unaccent(lower(coalesce(NEW.name, '')))), 'A')
        || setweight(to_tsvector('simple', coalesce(NEW.code, '')), 'A')
        || setweight(to_tsvector('simple', unaccent(lower(coalesce(field_name, '')))), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER procedure_search_vector
    BEFORE INSERT OR UPDATE OF name, code, field_id ON procedures_procedure
    FOR EACH ROW EXECUTE FUNCTION procedure_search_vector_update();

-- A renamed field re-folds its procedures (assigning name to itself fires the trigger above).
CREATE OR REPLACE FUNCTION procedure_field_renamed() RETURNS trigger AS $$
BEGIN
    UPDATE procedures_procedure SET name = name WHERE field_id = NEW.id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER procedure_field_renamed
    AFTER UPDATE OF name ON procedures_field
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION procedure_field_renamed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS procedure_field_renamed ON procedures_field;
DROP FUNCTION IF EXISTS procedure_field_renamed();
DROP TRIGGER IF EXISTS procedure_search_vector ON procedures_procedure;
DROP FUNCTION IF EXISTS procedure_search_vector_update();
"""


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]

    operations = [UnaccentExtension(), migrations.RunSQL(FORWARD, BACKWARD)]
