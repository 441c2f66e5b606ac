"""Applies ``supabase/migrations/*.sql`` in order, each once, recording them where the
Supabase CLI does (``supabase_migrations.schema_migrations``)."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "supabase" / "migrations"
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
