"""Alembic migrations for PostgreSQL and SQLite (run by `storage.migrate`)."""
