-- Storage: buckets and objects as Supabase's storage schema has them (created here only
-- when absent, i.e. on the local server), our buckets with their size and type limits,
-- org-scoped paths (<org_id>/...) governed by RLS, and no object left behind when the
-- asset row that uses it is deleted.

do $$
begin
  if to_regclass('storage.objects') is not null then
    return;  -- a real Supabase project: its storage service owns this schema
  end if;

  create schema if not exists storage;

  create table storage.buckets (
    id text primary key,
    name text not null unique,
    owner uuid,
    public boolean not null default false,
    file_size_limit bigint,
    allowed_mime_types text[],
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );

  create table storage.objects (
    id uuid primary key default gen_random_uuid(),
    bucket_id text references storage.buckets (id),
    name text,
    owner uuid,
    owner_id text,
    metadata jsonb,
    user_metadata jsonb,
    path_tokens text[] generated always as (string_to_array(name, '/')) stored,
    version text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_accessed_at timestamptz not null default now(),
    unique (bucket_id, name)
  );

  execute $f$
    create function storage.foldername(name text) returns text[] language sql immutable as $b$
      select (string_to_array(name, '/'))[1 : array_length(string_to_array(name, '/'), 1) - 1]
    $b$ $f$;
  execute $f$
    create function storage.filename(name text) returns text language sql immutable as $b$
      select (string_to_array(name, '/'))[array_length(string_to_array(name, '/'), 1)]
    $b$ $f$;
  execute $f$
    create function storage.extension(name text) returns text language sql immutable as $b$
      select lower(reverse(split_part(reverse(storage.filename(name)), '.', 1)))
    $b$ $f$;

  -- the local server deletes an object's bytes once its row is gone (any way it went)
  create table storage.deleted_objects (
    id uuid primary key,
    bucket_id text not null,
    name text not null,
    deleted_at timestamptz not null default now()
  );
  execute $f$
    create function storage.queue_deleted_object() returns trigger language plpgsql security definer as $b$
    begin
      insert into storage.deleted_objects (id, bucket_id, name) values (old.id, old.bucket_id, old.name)
      on conflict (id) do nothing;
      return old;
    end
    $b$ $f$;
  create trigger queue_deleted_object after delete on storage.objects
    for each row execute function storage.queue_deleted_object();

  alter table storage.buckets enable row level security;
  alter table storage.objects enable row level security;
  grant usage on schema storage to anon, authenticated, service_role;
  grant select on storage.buckets to anon, authenticated, service_role;
  grant all on storage.buckets to service_role;
  grant select, insert, update, delete on storage.objects to anon, authenticated, service_role;
  grant all on storage.deleted_objects to service_role;
  execute 'create policy buckets_read on storage.buckets for select to authenticated using (true)';
end
$$;

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('assets', 'assets', false, 2097152000, null),
  ('thumbnails', 'thumbnails', false, 5242880, array['image/png', 'image/jpeg', 'image/webp'])
on conflict (id) do update
  set file_size_limit = excluded.file_size_limit, allowed_mime_types = excluded.allowed_mime_types;

create or replace function public.try_uuid(p text) returns uuid
language plpgsql immutable as $$
begin
  return p::uuid;
exception when invalid_text_representation then
  return null;
end
$$;

-- the organisation an object belongs to: the first folder of its path
create or replace function public.object_org(p_name text) returns uuid
language sql immutable as $$
  select public.try_uuid(split_part(p_name, '/', 1))
$$;

create policy org_objects_read on storage.objects for select to authenticated
  using (bucket_id in ('assets', 'thumbnails') and public.has_org_role(public.object_org(name)));
create policy org_objects_insert on storage.objects for insert to authenticated
  with check (bucket_id in ('assets', 'thumbnails')
              and public.has_org_role(public.object_org(name), array['owner', 'editor']));
create policy org_objects_update on storage.objects for update to authenticated
  using (bucket_id in ('assets', 'thumbnails') and public.has_org_role(public.object_org(name), array['owner', 'editor']))
  with check (bucket_id in ('assets', 'thumbnails')
              and public.has_org_role(public.object_org(name), array['owner', 'editor']));
create policy org_objects_delete on storage.objects for delete to authenticated
  using (bucket_id in ('assets', 'thumbnails') and public.has_org_role(public.object_org(name), array['owner', 'editor']));

-- size and type limits, checked by the database whoever writes the row: the bucket's own,
-- and for `assets` the format's entry in supported_formats
create or replace function public.check_object_limits() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  b storage.buckets;
  f public.supported_formats;
  v_size bigint := coalesce((new.metadata ->> 'size')::bigint, 0);
  v_type text := coalesce(new.metadata ->> 'mimetype', 'application/octet-stream');
  v_ext text := lower(substring(new.name from '\.([A-Za-z0-9]+)$'));
begin
  select * into b from storage.buckets where id = new.bucket_id;
  if not found then
    raise exception 'bucket % not found', new.bucket_id using errcode = 'PT404';
  end if;
  if b.file_size_limit is not null and v_size > b.file_size_limit then
    raise exception '% is % bytes; bucket % takes at most % bytes', new.name, v_size, b.id, b.file_size_limit
      using errcode = 'PT413';
  end if;
  if b.allowed_mime_types is not null and not (v_type = any (b.allowed_mime_types)) then
    raise exception '% has type %; bucket % takes %', new.name, v_type, b.id, array_to_string(b.allowed_mime_types, ', ')
      using errcode = 'PT415';
  end if;
  if new.bucket_id = 'assets' then
    select * into f from public.supported_formats where extension = v_ext and is_active;
    if not found then
      raise exception '%: .% files are not a supported asset format', new.name, coalesce(v_ext, '(none)')
        using errcode = 'PT415';
    end if;
    if v_size > f.max_file_size_mb::bigint * 1048576 then
      raise exception '% is % bytes; % files may be at most % MB', new.name, v_size, f.display_name, f.max_file_size_mb
        using errcode = 'PT413';
    end if;
  end if;
  return new;
end
$$;

drop trigger if exists check_object_limits on storage.objects;
create trigger check_object_limits before insert or update on storage.objects
  for each row execute function public.check_object_limits();

-- an asset row owns its object unless another live row uses the same bytes
create or replace function public.delete_asset_object() returns trigger
language plpgsql security definer set search_path = public as $$
begin
  if old.url is not null and not exists (
    select 1 from public.design_studio_assets a where a.url = old.url and a.id <> old.id
  ) then
    delete from storage.objects where bucket_id = 'assets' and name = old.url;
  end if;
  return old;
end
$$;

create trigger delete_asset_object after delete on public.design_studio_assets
  for each row execute function public.delete_asset_object();
