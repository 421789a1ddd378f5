"""Alembic migrations of the store: the only way its tables are created or changed."""
