-- The plan's limits (tier_limits), enforced by the database for what clients do: projects,
-- seats, storage bytes; monthly compute is the credit allocation, which only the tier (the
-- service role's to set) decides. Organisation creation cannot mint credits: every person
-- has one free organisation (the personal one made at signup); any other comes from the
-- billing service with its plan.
--
-- A limit reached is SQLSTATE PT402 (HTTP 402), with details
-- {"limit", "tier", "allowed", "used"} and a hint, like a short credit balance.

create or replace function private.plan(p_org_id uuid) returns public.tier_limits
language sql stable security definer set search_path = public as $$
  select t.* from public.organizations o join public.tier_limits t on t.tier_name = o.tier where o.id = p_org_id
$$;

create or replace function private.limit_reached(p_limit text, p_tier text, p_allowed bigint, p_used bigint,
                                                 p_message text, p_hint text) returns void
language plpgsql as $$
begin
  raise exception '%', p_message
    using errcode = 'PT402',
          detail = json_build_object('limit', p_limit, 'tier', p_tier, 'allowed', p_allowed, 'used', p_used)::text,
          hint = p_hint;
end
$$;

-- projects_limit: live (not deleted) projects per organisation. Checked as the caller's
-- request only when the caller may create projects there (otherwise RLS refuses it, and a
-- non-member learns nothing about the organisation); concurrent creations queue on a lock.
create or replace function private.check_project_limit(p_org_id uuid) returns void
language plpgsql security definer set search_path = public as $$
declare
  t public.tier_limits;
  v_used bigint;
begin
  if not public.has_org_role(p_org_id, array['owner', 'editor']) then
    return;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('dstudio:projects:' || p_org_id, 0));
  t := private.plan(p_org_id);
  if t.projects_limit is null then
    return;
  end if;
  select count(*) into v_used from public.design_studio_projects where org_id = p_org_id and deleted_at is null;
  if v_used >= t.projects_limit then
    perform private.limit_reached('projects', t.tier_name, t.projects_limit, v_used,
      format('the %s plan allows %s projects and this organisation has %s', t.tier_name, t.projects_limit, v_used),
      'Upgrade the organisation''s plan, or delete a project.');
  end if;
end
$$;

create or replace function public.limit_projects() returns trigger
language plpgsql set search_path = public as $$
begin
  if private.writer() <> 'client' or new.deleted_at is not null then
    return new;
  end if;
  if tg_op = 'INSERT' then
    -- an upsert of a project that exists is an update: it takes no new place
    if not exists (select 1 from public.design_studio_projects where id = new.id) then
      perform private.check_project_limit(new.org_id);
    end if;
  elsif old.deleted_at is not null then  -- restored from the trash
    perform private.check_project_limit(new.org_id);
  end if;
  return new;
end
$$;

drop trigger if exists limit_projects on public.design_studio_projects;
create trigger limit_projects before insert or update on public.design_studio_projects
  for each row execute function public.limit_projects();

-- seats_limit: members per organisation (every role takes a seat)
create or replace function private.check_seat_limit(p_org_id uuid, p_user_id uuid) returns void
language plpgsql security definer set search_path = public as $$
declare
  t public.tier_limits;
  v_used bigint;
begin
  if not public.has_org_role(p_org_id, array['owner']) then
    return;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('dstudio:seats:' || p_org_id, 0));
  t := private.plan(p_org_id);
  if t.seats_limit is null
     or exists (select 1 from public.org_members where org_id = p_org_id and user_id = p_user_id) then
    return;
  end if;
  select count(*) into v_used from public.org_members where org_id = p_org_id;
  if v_used >= t.seats_limit then
    perform private.limit_reached('seats', t.tier_name, t.seats_limit, v_used,
      format('the %s plan has %s seat(s) and this organisation uses %s', t.tier_name, t.seats_limit, v_used),
      'Upgrade the organisation''s plan for more seats, or remove a member.');
  end if;
end
$$;

create or replace function public.limit_seats() returns trigger
language plpgsql set search_path = public as $$
begin
  if private.writer() = 'client' then
    perform private.check_seat_limit(new.org_id, new.user_id);
  end if;
  return new;
end
$$;

drop trigger if exists limit_seats on public.org_members;
create trigger limit_seats before insert on public.org_members
  for each row execute function public.limit_seats();


-- storage_limit_bytes: the bytes of an organisation's objects in our buckets, counted per
-- organisation as objects come, change and go (so a check is one row, not a scan of
-- storage.objects); the counter row's lock makes concurrent uploads queue.
create table if not exists public.org_storage_usage (
  org_id uuid primary key references public.organizations (id) on delete cascade,
  bytes bigint not null default 0 check (bytes >= 0),
  objects integer not null default 0 check (objects >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.org_storage_usage enable row level security;
-- read like any table (members see their organisation's row); written by the trigger alone
revoke all on public.org_storage_usage from public, anon, authenticated, service_role;
grant select on public.org_storage_usage to anon, authenticated, service_role;
create policy org_storage_usage_read on public.org_storage_usage for select to authenticated
  using (public.has_org_role(org_id));
drop trigger if exists set_updated_at on public.org_storage_usage;
create trigger set_updated_at before insert or update on public.org_storage_usage
  for each row execute function public.set_updated_at();

create or replace function private.add_storage(p_org_id uuid, p_bytes bigint, p_objects integer, p_enforce boolean)
returns void
language plpgsql security definer set search_path = public as $$
declare
  v_total bigint;
  t public.tier_limits;
begin
  if p_org_id is null or (p_bytes = 0 and p_objects = 0)
     or not exists (select 1 from public.organizations where id = p_org_id) then
    return;
  end if;
  insert into public.org_storage_usage as u (org_id, bytes, objects)
  values (p_org_id, greatest(p_bytes, 0), greatest(p_objects, 0))
  on conflict (org_id) do update
    set bytes = greatest(u.bytes + p_bytes, 0), objects = greatest(u.objects + p_objects, 0)
  returning bytes into v_total;
  if p_enforce and p_bytes > 0 then
    t := private.plan(p_org_id);
    if t.storage_limit_bytes is not null and v_total > t.storage_limit_bytes then
      perform private.limit_reached('storage_bytes', t.tier_name, t.storage_limit_bytes, v_total - p_bytes,
        format('the %s plan stores %s bytes; this organisation uses %s and the file needs %s more',
               t.tier_name, t.storage_limit_bytes, v_total - p_bytes, p_bytes),
        'Upgrade the organisation''s plan, or delete files you no longer need.');
    end if;
  end if;
end
$$;

create or replace function public.count_object_bytes() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  v_client boolean := coalesce(auth.role(), '') in ('anon', 'authenticated');
  v_old_org uuid;
  v_new_org uuid;
  v_old bigint := 0;
  v_new bigint := 0;
begin
  if tg_op in ('UPDATE', 'DELETE') and old.bucket_id in ('assets', 'thumbnails') then
    v_old_org := public.object_org(old.name);
    v_old := coalesce((old.metadata ->> 'size')::bigint, 0);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and new.bucket_id in ('assets', 'thumbnails') then
    v_new_org := public.object_org(new.name);
    v_new := coalesce((new.metadata ->> 'size')::bigint, 0);
  end if;
  if v_old_org is not distinct from v_new_org then
    perform private.add_storage(v_new_org, v_new - v_old, 0 + (tg_op = 'INSERT')::int - (tg_op = 'DELETE')::int,
                                v_client);
  else
    perform private.add_storage(v_old_org, -v_old, -1, false);
    perform private.add_storage(v_new_org, v_new, 1, v_client);
  end if;
  return null;
end
$$;

drop trigger if exists count_object_bytes on storage.objects;
create trigger count_object_bytes after insert or update or delete on storage.objects
  for each row execute function public.count_object_bytes();

insert into public.org_storage_usage (org_id, bytes, objects)
select o.id, sum(coalesce((s.metadata ->> 'size')::bigint, 0)), count(*)
  from storage.objects s join public.organizations o on o.id = public.object_org(s.name)
 where s.bucket_id in ('assets', 'thumbnails')
 group by o.id
on conflict (org_id) do update set bytes = excluded.bytes, objects = excluded.objects;


-- Organisations: a signed-in user may create one free organisation in all (the personal one
-- made at signup counts), so creating and leaving organisations yields no fresh allocation;
-- the billing service (service role) creates any organisation, on any plan, for its owner.
drop function if exists public.create_organization(text, text);
create or replace function public.create_organization(name text, tier text default 'free', owner_id uuid default null)
returns public.organizations
language plpgsql security definer set search_path = public as $$
declare
  o public.organizations;
  v_owner uuid;
  v_allocation integer;
  v_service boolean := auth.role() is null or auth.role() = 'service_role';
begin
  if v_service then
    v_owner := owner_id;
    if v_owner is null or not exists (select 1 from auth.users u where u.id = v_owner) then
      raise exception 'create_organization as the service needs the owner_id of an existing user' using errcode = '22023';
    end if;
  else
    if auth.uid() is null then
      raise exception 'create_organization needs a signed-in user' using errcode = '42501';
    end if;
    if owner_id is not null and owner_id is distinct from auth.uid() then
      raise exception 'permission denied: an organisation you create is yours (owner_id is the signed-in user)'
        using errcode = '42501';
    end if;
    if tier is distinct from 'free' then
      raise exception 'only the billing service can create a % organisation', tier using errcode = '42501';
    end if;
    v_owner := auth.uid();
    perform pg_advisory_xact_lock(hashtextextended('dstudio:create_organization:' || v_owner, 0));
    if exists (select 1 from public.organizations where created_by = v_owner and organizations.tier = 'free') then
      perform private.limit_reached('organizations', 'free', 1, 1,
        'each account has one free organisation, and yours exists; another comes with a paid plan',
        'Upgrade an organisation''s plan, or ask the billing service for a team organisation.');
    end if;
  end if;
  select monthly_compute_units into v_allocation from public.tier_limits where tier_name = tier;
  if not found then
    raise exception 'unknown tier %', tier using errcode = '22023';
  end if;
  if name is null or length(name) not between 1 and 200 then
    raise exception 'an organisation''s name has 1 to 200 characters' using errcode = '22023';
  end if;
  insert into public.organizations (name, tier, created_by) values (name, tier, v_owner) returning * into o;
  insert into public.org_members (org_id, user_id, role) values (o.id, v_owner, 'owner');
  insert into public.credits (org_id, balance, monthly_allocation) values (o.id, v_allocation, v_allocation);
  if v_allocation > 0 then
    insert into public.credit_ledger (org_id, delta, running_balance, reason, category, credit_source, performed_by)
    values (o.id, v_allocation, v_allocation, 'monthly allocation (' || tier || ')', 'allocation', 'monthly', v_owner);
  end if;
  return o;
end
$$;

revoke execute on function public.create_organization from public, anon;
grant execute on function public.create_organization to authenticated, service_role;

revoke all on all functions in schema private from public, anon;
grant execute on all functions in schema private to authenticated, service_role;
revoke execute on function public.limit_projects, public.limit_seats, public.count_object_bytes from public, anon;
