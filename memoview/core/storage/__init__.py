"""SQLite storage of a case: schema, migrations, audit hash chain."""
