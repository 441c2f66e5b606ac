"""Applies ``supabase/migrations/*.sql`` in order, each once, recording them where the
Supabase CLI does (``supabase_migrations.schema_migrations``).

The repository keeps the SQL in ``supabase/migrations`` (where the Supabase CLI reads it, so
that folder holds no Python); the wheel ships it as ``dstudio_backend/sql_migrations/``
(``[tool.setuptools.package-dir]`` in pyproject.toml). ``migrations_dir()`` finds it either way.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import psycopg

_SHIPPED_AS = "sql_migrations"


def migrations_dir() -> Path:
    """The folder of migration files: the wheel's package data, or the checkout's ``supabase/migrations``."""
    shipped = files(__package__) / _SHIPPED_AS
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    # An editable install (what ./dev makes) cannot map a folder without __init__.py into the
    # package (pypa/setuptools#4943), so there the files are read where the repository keeps them.
    checkout = Path(__file__).resolve().parent.parent / "supabase" / "migrations"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"the backend's migrations are missing: neither {shipped} nor {checkout} exists; reinstall")


MIGRATIONS_DIR = migrations_dir()
_NAME = re.compile(r"^(\d{14})_(.+)\.sql$")


def migration_files(folder: Path = MIGRATIONS_DIR) -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"{path}: migration files are named <14-digit timestamp>_<name>.sql")
        found.append((match.group(1), match.group(2), path))
    return found


def apply_migrations(dsn: str, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Applies what is not applied yet; returns the versions it applied."""
    applied_now = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create schema if not exists supabase_migrations")
        conn.execute("create table if not exists supabase_migrations.schema_migrations "
                     "(version text primary key, statements text[], name text)")
        done = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
        for version, name, path in migration_files(folder):
            if version in done:
                continue
            sql = path.read_text()
            try:
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute("insert into supabase_migrations.schema_migrations (version, statements, name) "
                                 "values (%s, %s, %s)", (version, [sql], name))
            except psycopg.Error as exc:
                raise RuntimeError(f"{path.name}: {exc.diag.message_primary or exc}") from exc
            applied_now.append(version)
    return applied_now
