"""The migrations: applied once each, in the Supabase CLI's layout, and runnable on a
database that already has Supabase's own auth and storage schemas (a hosted project)."""

from __future__ import annotations

import uuid

import psycopg

from dstudio_backend.migrations import MIGRATIONS_DIR, apply_migrations, migration_files


def _fresh_database(server) -> str:
    name = f"m_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.db_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return server.db_url.rsplit("/", 1)[0] + "/" + name


def test_files_follow_the_supabase_cli_layout():
    files = migration_files()
    assert MIGRATIONS_DIR.parts[-2:] == ("supabase", "migrations")
    assert [version for version, _, _ in files] == sorted(version for version, _, _ in files)
    assert len(files) >= 8


def test_applying_twice_changes_nothing(server):
    dsn = _fresh_database(server)
    assert len(apply_migrations(dsn)) == len(migration_files())
    assert apply_migrations(dsn) == []
    with psycopg.connect(dsn) as conn:
        versions = [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")]
        assert versions == [v for v, _, _ in migration_files()]
        # row-level security is on for every table of the public schema
        unprotected = conn.execute("select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                                   "where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity").fetchall()
        assert unprotected == []


def test_runs_where_supabase_already_made_auth_and_storage(server):
    """A hosted project has GoTrue's auth schema and the storage service's schema: the
    migrations must use them, not recreate them."""
    dsn = _fresh_database(server)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("""
            create extension if not exists pgcrypto;
            create schema auth;
            create table auth.users (id uuid primary key, email text, raw_app_meta_data jsonb default '{}',
                                     raw_user_meta_data jsonb default '{}', hosted_marker boolean default true);
            create function auth.uid() returns uuid language sql stable as
              $$ select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
            create function auth.role() returns text language sql stable as
              $$ select nullif(current_setting('request.jwt.claim.role', true), '')::text $$;
            create function auth.jwt() returns jsonb language sql stable as $$ select '{}'::jsonb $$;
            create function auth.email() returns text language sql stable as $$ select null::text $$;
            create schema storage;
            create table storage.buckets (id text primary key, name text, public boolean default false,
                                          file_size_limit bigint, allowed_mime_types text[]);
            create table storage.objects (id uuid primary key default gen_random_uuid(), bucket_id text,
                                          name text, owner uuid, metadata jsonb, hosted_marker boolean default true);
        """)
    apply_migrations(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("select count(*) from information_schema.columns "
                            "where table_schema in ('auth', 'storage') and column_name = 'hosted_marker'"
                            ).fetchone()[0] == 2
        user_id = uuid.uuid4()
        conn.execute("insert into auth.users (id, email) values (%s, 'hosted@example.com')", (user_id,))
        org = conn.execute("select org_id from public.org_members where user_id = %s", (user_id,)).fetchone()[0]
        assert conn.execute("select balance from public.credits where org_id = %s", (org,)).fetchone()[0] == 100
        assert {r[0] for r in conn.execute("select id from storage.buckets")} == {"assets", "thumbnails"}
