-- Supabase's roles and the part of its `auth` schema the rest of the schema relies on.
-- On a hosted Supabase project all of this already exists and every statement below is
-- skipped, so the same migrations deploy there (`supabase db push`) and run locally.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator nologin noinherit;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;

create extension if not exists pgcrypto;

do $$
begin
  if to_regclass('auth.users') is not null then
    return;  -- a real Supabase project: GoTrue owns this schema
  end if;

  create schema if not exists auth;

  create table auth.users (
    instance_id uuid,
    id uuid primary key default gen_random_uuid(),
    aud varchar(255) default 'authenticated',
    role varchar(255) default 'authenticated',
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb not null default '{}',
    raw_user_meta_data jsonb not null default '{}',
    is_anonymous boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    deleted_at timestamptz
  );
  create unique index users_email_key on auth.users (lower(email)) where deleted_at is null;

  create table auth.sessions (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );

  -- refresh tokens are single-use: using one revokes it and issues its child
  create table auth.refresh_tokens (
    id bigserial primary key,
    token varchar(255) not null unique,
    user_id uuid not null references auth.users (id) on delete cascade,
    session_id uuid not null references auth.sessions (id) on delete cascade,
    parent varchar(255),
    revoked boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  create index refresh_tokens_session on auth.refresh_tokens (session_id);

  -- the claims PostgREST puts in request.jwt.claims for each request
  execute $f$
    create function auth.jwt() returns jsonb language sql stable as $b$
      select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
    $b$ $f$;
  execute $f$
    create function auth.uid() returns uuid language sql stable as $b$
      select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                      auth.jwt() ->> 'sub')::uuid
    $b$ $f$;
  execute $f$
    create function auth.role() returns text language sql stable as $b$
      select coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                      auth.jwt() ->> 'role')
    $b$ $f$;
  execute $f$
    create function auth.email() returns text language sql stable as $b$
      select auth.jwt() ->> 'email'
    $b$ $f$;
end
$$;

grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.uid(), auth.role(), auth.jwt(), auth.email()
  to anon, authenticated, service_role;
