-- Column rules: which columns each role may write, enforced by the database whoever writes.
--
-- Row-level security (20261123000300) decides which ROWS a member may write; the triggers
-- here decide which COLUMNS, one guard function per table, each with its table's rules in
-- its header. Three kinds of writer (private.writer()):
--   client    a request as anon or authenticated: only the columns its table's guard lists;
--   service   a request as service_role (workers, billing): everything but the database's
--             own bookkeeping (numbering, credits, the outbox record);
--   database  a security-definer function of this schema (create_version, the credit and job
--             functions, signup) or a direct session: everything.
-- Some rules bind every writer, because the data would be wrong whoever wrote it: a row never
-- moves to another organisation or project, and what it points at (a version, a project, a
-- storage path) belongs to its own organisation.
--
-- A refused column is SQLSTATE 42501 (HTTP 403, 401 for anon) with the column named in the
-- message and as JSON in `details`. Timestamps are the server's: created_at, updated_at,
-- a session's joined_at and last_heartbeat_at, and the time in deleted_at are set here and
-- a client's value is replaced, not refused (the desktop, offline first, sends its own clock).
-- Authorship (created_by, uploaded_by, author_id, requested_by, a session's user_id) is
-- auth.uid(): left out it is filled in, any other user is refused.

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- who is writing (see above); security invoker, so current_user is the statement's role: a
-- trigger fired inside a security-definer function sees that function's owner
create or replace function private.writer() returns text
language sql stable as $$
  select case current_user
    when 'anon' then 'client'
    when 'authenticated' then 'client'
    when 'service_role' then 'service'
    else 'database'
  end
$$;

create or replace function private.refuse(p_table text, p_column text, p_rule text) returns void
language plpgsql as $$
begin
  raise exception 'permission denied for column % of %: %', p_column, p_table, p_rule
    using errcode = '42501',
          detail = json_build_object('table', p_table, 'column', p_column)::text;
end
$$;

-- the first column whose value differs between the two row images, among p_columns (or,
-- when p_columns is null, among all but p_except); timestamps the stamping trigger sets
-- are never counted
create or replace function private.first_changed(p_old jsonb, p_new jsonb, p_columns text[], p_except text[] default '{}')
returns text
language sql immutable as $$
  select n.key
    from jsonb_each(p_new) n
   where n.value is distinct from p_old -> n.key
     and (p_columns is null or n.key = any (p_columns))
     and n.key <> all (p_except || array['created_at', 'updated_at'])
   order by n.key
   limit 1
$$;

-- refuses a change of any column but p_allowed, with p_reasons[column] (or a general reason)
create or replace function private.only_changes(p_table text, p_old jsonb, p_new jsonb, p_allowed text[],
                                                p_reasons jsonb default '{}') returns void
language plpgsql as $$
declare
  v_col text := private.first_changed(p_old, p_new, null, p_allowed);
begin
  if v_col is not null then
    perform private.refuse(p_table, v_col, coalesce(p_reasons ->> v_col, 'a client may not change it'));
  end if;
end
$$;

-- refuses a change of any of p_columns: the columns that never change, whoever writes
create or replace function private.never_changes(p_table text, p_old jsonb, p_new jsonb, p_columns text[]) returns void
language plpgsql as $$
declare
  v_col text := private.first_changed(p_old, p_new, p_columns);
begin
  if v_col is not null then
    perform private.refuse(p_table, v_col, 'it never changes once the row exists');
  end if;
end
$$;

-- authorship: left out it is the caller, anyone else is refused
create or replace function private.author(p_table text, p_column text, p_value uuid) returns uuid
language plpgsql stable as $$
begin
  if p_value is not null and p_value is distinct from auth.uid() then
    perform private.refuse(p_table, p_column, 'it is the signed-in user, set by the server');
  end if;
  return auth.uid();
end
$$;

-- a storage path a row names must lie in its organisation's folder: <org_id>/...
create or replace function private.org_path(p_table text, p_column text, p_path text, p_org uuid) returns void
language plpgsql stable as $$
begin
  if p_path is not null and (p_org is null or public.object_org(p_path) is distinct from p_org) then
    perform private.refuse(p_table, p_column,
                           'it must be a storage path in the organisation''s own folder (<org_id>/...)');
  end if;
end
$$;

-- deleted_at is a flag the client sets or clears; its time is the server's
create or replace function private.deleted_at(p_old timestamptz, p_new timestamptz, p_inserting boolean)
returns timestamptz
language sql stable as $$
  select case when p_new is null then null
              when p_inserting or p_old is null then now()
              else p_old end
$$;

-- the caller's role in an organisation (security definer: org_members is not the caller's to
-- read in full)
create or replace function private.member_role(p_org_id uuid) returns text
language sql stable security definer set search_path = public as $$
  select role from public.org_members where org_id = p_org_id and user_id = auth.uid()
$$;

revoke all on all functions in schema private from public, anon;
grant execute on all functions in schema private to authenticated, service_role;


-- ---------------------------------------------------------------------------------------
-- Timestamps: created_at is the server's clock for clients (the service may backfill it)
-- and never changes; updated_at is always now(), on insert too, or a client could hide a row
-- from every other client's (updated_at, id) sync cursor, or push their cursors into the future.

create or replace function public.set_updated_at() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if private.writer() = 'client' then
      new := jsonb_populate_record(new, jsonb_build_object('created_at', now()));
    end if;
  else
    new := jsonb_populate_record(new, jsonb_build_object('created_at', to_jsonb(old) -> 'created_at'));
  end if;
  new.updated_at := now();
  return new;
end
$$;

-- a project's updated_at moves only when its content changes (see 20261123000200), and
-- otherwise keeps its old value, whatever the client sent
create or replace function public.set_project_updated_at() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if private.writer() = 'client' then
      new.created_at := now();
    end if;
    new.updated_at := now();
    return new;
  end if;
  new.created_at := old.created_at;
  if (to_jsonb(new) - 'version_count' - 'current_version_id' - 'updated_at')
     is distinct from (to_jsonb(old) - 'version_count' - 'current_version_id' - 'updated_at') then
    new.updated_at := now();
  else
    new.updated_at := old.updated_at;
  end if;
  return new;
end
$$;

do $$
declare
  t text;
begin
  for t in
    select c.table_name from information_schema.columns c
     join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'updated_at' and tb.table_type = 'BASE TABLE'
  loop
    execute format('drop trigger if exists set_updated_at on public.%I', t);
    execute format('create trigger set_updated_at before insert or update on public.%I for each row execute function %s',
                   t, case t when 'design_studio_projects' then 'public.set_project_updated_at()'
                             else 'public.set_updated_at()' end);
  end loop;
end
$$;

create or replace function private.stamp_created_at() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' and private.writer() = 'client' then
    new.created_at := now();
  elsif tg_op = 'UPDATE' then
    new.created_at := old.created_at;
  end if;
  return new;
end
$$;
drop trigger if exists set_created_at on public.applied_mutations;
create trigger set_created_at before insert or update on public.applied_mutations
  for each row execute function private.stamp_created_at();


-- ---------------------------------------------------------------------------------------
-- organizations
--   client (owner, by RLS): name. tier, is_personal, created_by: service (billing) only.
--   Organisations are made by create_organization, not inserted by clients.
--   everyone: id never changes.
create or replace function public.guard_organizations() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('organizations', to_jsonb(old), to_jsonb(new), array['id']);
  end if;
  if private.writer() <> 'client' then
    return new;
  end if;
  if tg_op = 'INSERT' then
    if new.tier is distinct from 'free' then
      perform private.refuse('organizations', 'tier', 'the plan is billing''s: only the service role sets it');
    end if;
    if new.is_personal then
      perform private.refuse('organizations', 'is_personal', 'it is set by the server');
    end if;
    new.created_by := private.author('organizations', 'created_by', new.created_by);
  else
    perform private.only_changes('organizations', to_jsonb(old), to_jsonb(new), array['name'], jsonb_build_object(
      'tier', 'the plan is billing''s: only the service role sets it',
      'is_personal', 'it is set by the server',
      'created_by', 'it is set by the server'));
  end if;
  return new;
end
$$;

-- profiles
--   client (the user themselves, by RLS): display_name, avatar_url. email: the server's (auth).
--   Profiles are made at signup. everyone: id never changes.
create or replace function public.guard_profiles() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('profiles', to_jsonb(old), to_jsonb(new), array['id']);
  end if;
  if private.writer() <> 'client' then
    return new;
  end if;
  if tg_op = 'INSERT' then
    perform private.refuse('profiles', 'id', 'profiles are made by the server at signup');
  end if;
  perform private.only_changes('profiles', to_jsonb(old), to_jsonb(new), array['display_name', 'avatar_url'],
                               '{"email": "it is the account''s address, kept by the server"}');
  return new;
end
$$;

-- org_members
--   client (owner, by RLS): org_id, user_id and role when adding; role afterwards.
--   everyone: org_id and user_id never change (a membership is not moved, it is made).
create or replace function public.guard_org_members() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('org_members', to_jsonb(old), to_jsonb(new), array['org_id', 'user_id']);
    if private.writer() = 'client' then
      perform private.only_changes('org_members', to_jsonb(old), to_jsonb(new), array['role']);
    end if;
  end if;
  return new;
end
$$;

-- design_studio_projects
--   client (owner, editor by RLS): the content (name, description, model_url, thumbnail_url,
--     canvas_state, scene_graph, material_overrides, lighting_config, camera_presets,
--     environment_config, status, is_template, template_category, source_project_id), and
--     deleted_at (the time is the server's); id and org_id when creating.
--   created_by: the caller. version_count and current_version_id: create_version's alone,
--     not even the service role's (a lowered count would make every later save collide).
--   everyone: id and org_id never change; source_project_id is a project of the same
--     organisation; current_version_id a version of this project; model_url and
--     thumbnail_url paths in the organisation's folder.
create or replace function public.guard_projects() returns trigger
language plpgsql set search_path = public as $$
declare
  v_writer text := private.writer();
  v_numbering jsonb := '{"version_count": "versions are numbered by create_version", "current_version_id": "it is set by create_version"}';
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_projects', to_jsonb(old), to_jsonb(new), array['id', 'org_id']);
  end if;
  if v_writer <> 'database' then
    if tg_op = 'INSERT' then
      if new.version_count <> 0 then
        perform private.refuse('design_studio_projects', 'version_count', v_numbering ->> 'version_count');
      end if;
      if new.current_version_id is not null then
        perform private.refuse('design_studio_projects', 'current_version_id', v_numbering ->> 'current_version_id');
      end if;
    else
      perform private.only_changes('design_studio_projects', to_jsonb(old), to_jsonb(new),
        array(select jsonb_object_keys(to_jsonb(new) - 'version_count' - 'current_version_id')), v_numbering);
    end if;
  end if;
  if v_writer = 'client' then
    if tg_op = 'INSERT' then
      new.created_by := private.author('design_studio_projects', 'created_by', new.created_by);
      new.deleted_at := private.deleted_at(null, new.deleted_at, true);
    else
      new.deleted_at := private.deleted_at(old.deleted_at, new.deleted_at, false);
      perform private.only_changes('design_studio_projects', to_jsonb(old), to_jsonb(new), array[
        'name', 'description', 'model_url', 'thumbnail_url', 'canvas_state', 'scene_graph', 'material_overrides',
        'lighting_config', 'camera_presets', 'environment_config', 'status', 'is_template', 'template_category',
        'source_project_id', 'deleted_at'], v_numbering || '{"created_by": "it is set by the server"}');
    end if;
  end if;
  if new.source_project_id is not null
     and (tg_op = 'INSERT' or new.source_project_id is distinct from old.source_project_id)
     and not exists (select 1 from public.design_studio_projects p
                      where p.id = new.source_project_id and p.org_id = new.org_id and p.id <> new.id) then
    perform private.refuse('design_studio_projects', 'source_project_id',
                           'it must name another project of the same organisation');
  end if;
  if new.current_version_id is not null
     and (tg_op = 'INSERT' or new.current_version_id is distinct from old.current_version_id)
     and not exists (select 1 from public.design_studio_versions v
                      where v.id = new.current_version_id and v.project_id = new.id) then
    perform private.refuse('design_studio_projects', 'current_version_id', 'it must name a version of this project');
  end if;
  perform private.org_path('design_studio_projects', 'model_url', new.model_url, new.org_id);
  perform private.org_path('design_studio_projects', 'thumbnail_url', new.thumbnail_url, new.org_id);
  return new;
end
$$;

-- design_studio_assets
--   client (owner, editor by RLS): asset_type, name, url, thumbnail_url, file_size, sha256,
--     metadata, deleted_at (the time is the server's); id and project_id when creating.
--   uploaded_by: the caller.
--   everyone: id and project_id never change; url and thumbnail_url are paths in the
--     project's organisation's folder (the delete trigger removes the object url names).
create or replace function public.guard_assets() returns trigger
language plpgsql set search_path = public as $$
declare
  v_org uuid;
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_assets', to_jsonb(old), to_jsonb(new), array['id', 'project_id']);
  end if;
  if private.writer() = 'client' then
    if tg_op = 'INSERT' then
      new.uploaded_by := private.author('design_studio_assets', 'uploaded_by', new.uploaded_by);
      new.deleted_at := private.deleted_at(null, new.deleted_at, true);
    else
      new.deleted_at := private.deleted_at(old.deleted_at, new.deleted_at, false);
      perform private.only_changes('design_studio_assets', to_jsonb(old), to_jsonb(new), array[
        'asset_type', 'name', 'url', 'thumbnail_url', 'file_size', 'sha256', 'metadata', 'deleted_at'],
        '{"uploaded_by": "it is set by the server"}');
    end if;
  end if;
  if new.url is not null or new.thumbnail_url is not null then
    select org_id into v_org from public.design_studio_projects where id = new.project_id;
    perform private.org_path('design_studio_assets', 'url', new.url, v_org);
    perform private.org_path('design_studio_assets', 'thumbnail_url', new.thumbnail_url, v_org);
  end if;
  return new;
end
$$;

-- design_studio_annotations
--   client: creating (owner, editor, reviewer by RLS) sets id, project_id, version_id,
--     content, position, camera_state, resolved, deleted_at; author_id is the caller.
--     Afterwards: resolved by any owner, editor or reviewer; content, position,
--     camera_state and version_id by the author alone; deleted_at by the author or an owner.
--   everyone: id, project_id never change; version_id is a version of the same project.
create or replace function public.guard_annotations() returns trigger
language plpgsql set search_path = public as $$
declare
  v_allowed text[] := array['resolved'];
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_annotations', to_jsonb(old), to_jsonb(new), array['id', 'project_id']);
  end if;
  if private.writer() = 'client' then
    if tg_op = 'INSERT' then
      new.author_id := private.author('design_studio_annotations', 'author_id', new.author_id);
      new.deleted_at := private.deleted_at(null, new.deleted_at, true);
    else
      new.deleted_at := private.deleted_at(old.deleted_at, new.deleted_at, false);
      if old.author_id = auth.uid() then
        v_allowed := v_allowed || array['content', 'position', 'camera_state', 'version_id', 'deleted_at'];
      elsif public.has_project_role(old.project_id, array['owner']) then
        v_allowed := v_allowed || array['deleted_at'];
      end if;
      perform private.only_changes('design_studio_annotations', to_jsonb(old), to_jsonb(new), v_allowed, jsonb_build_object(
        'author_id', 'it is set by the server',
        'content', 'only the annotation''s author may change it',
        'position', 'only the annotation''s author may change it',
        'camera_state', 'only the annotation''s author may change it',
        'version_id', 'only the annotation''s author may change it',
        'deleted_at', 'only the author or an owner may delete an annotation'));
    end if;
  end if;
  if new.version_id is not null
     and (tg_op = 'INSERT' or new.version_id is distinct from old.version_id)
     and not exists (select 1 from public.design_studio_versions v
                      where v.id = new.version_id and v.project_id = new.project_id) then
    perform private.refuse('design_studio_annotations', 'version_id', 'it must name a version of the same project');
  end if;
  return new;
end
$$;

-- design_studio_annotation_replies
--   client: creating (owner, editor, reviewer by RLS) sets id, annotation_id, content,
--     deleted_at; author_id is the caller. Afterwards (its author, by RLS): content, deleted_at.
--   everyone: id and annotation_id never change.
create or replace function public.guard_annotation_replies() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_annotation_replies', to_jsonb(old), to_jsonb(new),
                                  array['id', 'annotation_id']);
  end if;
  if private.writer() = 'client' then
    if tg_op = 'INSERT' then
      new.author_id := private.author('design_studio_annotation_replies', 'author_id', new.author_id);
      new.deleted_at := private.deleted_at(null, new.deleted_at, true);
    else
      new.deleted_at := private.deleted_at(old.deleted_at, new.deleted_at, false);
      perform private.only_changes('design_studio_annotation_replies', to_jsonb(old), to_jsonb(new),
                                   array['content', 'deleted_at'], '{"author_id": "it is set by the server"}');
    end if;
  end if;
  return new;
end
$$;

-- design_studio_exports
--   client (owner, editor by RLS): version_id, format, quality_preset, output_url,
--     file_size, started_at, completed_at; id and project_id when creating. requested_by
--     is the caller. credits_used: the server's (what was charged).
--   everyone: id, project_id never change; version_id is a version of the same project;
--     output_url a path in the organisation's folder.
create or replace function public.guard_exports() returns trigger
language plpgsql set search_path = public as $$
declare
  v_org uuid;
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_exports', to_jsonb(old), to_jsonb(new), array['id', 'project_id']);
  end if;
  if private.writer() = 'client' then
    if tg_op = 'INSERT' then
      new.requested_by := private.author('design_studio_exports', 'requested_by', new.requested_by);
      if new.credits_used <> 0 then
        perform private.refuse('design_studio_exports', 'credits_used', 'what an export cost is the server''s record');
      end if;
    else
      perform private.only_changes('design_studio_exports', to_jsonb(old), to_jsonb(new), array[
        'version_id', 'format', 'quality_preset', 'output_url', 'file_size', 'started_at', 'completed_at'],
        '{"requested_by": "it is set by the server", "credits_used": "what an export cost is the server''s record"}');
    end if;
  end if;
  if new.version_id is not null
     and (tg_op = 'INSERT' or new.version_id is distinct from old.version_id)
     and not exists (select 1 from public.design_studio_versions v
                      where v.id = new.version_id and v.project_id = new.project_id) then
    perform private.refuse('design_studio_exports', 'version_id', 'it must name a version of the same project');
  end if;
  if new.output_url is not null then
    select org_id into v_org from public.design_studio_projects where id = new.project_id;
    perform private.org_path('design_studio_exports', 'output_url', new.output_url, v_org);
  end if;
  return new;
end
$$;

-- design_studio_sessions (presence)
--   client (the user themselves, by RLS): cursor_state, selection_state, is_active; id and
--     project_id when joining. user_id is the caller; role is the caller's role in the
--     project's organisation, joined_at the time of joining and last_heartbeat_at the time of
--     each write: all three set here, whatever the client sent.
--   everyone: id, project_id and user_id never change.
create or replace function public.guard_sessions() returns trigger
language plpgsql set search_path = public as $$
declare
  v_org uuid;
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('design_studio_sessions', to_jsonb(old), to_jsonb(new),
                                  array['id', 'project_id', 'user_id']);
  end if;
  if private.writer() = 'client' then
    select org_id into v_org from public.design_studio_projects where id = new.project_id;
    new.role := coalesce(private.member_role(v_org), 'viewer');
    new.last_heartbeat_at := now();
    if tg_op = 'INSERT' then
      new.user_id := private.author('design_studio_sessions', 'user_id', new.user_id);
      new.joined_at := now();
    else
      new.joined_at := old.joined_at;
      perform private.only_changes('design_studio_sessions', to_jsonb(old), to_jsonb(new), array[
        'cursor_state', 'selection_state', 'is_active', 'role', 'last_heartbeat_at']);
    end if;
  end if;
  return new;
end
$$;

-- print_jobs (sliced and printed on the user's own machine and printer)
--   client (owner, editor by RLS): design_project_id, status, material, color,
--     infill_percent, support_material, layer_height, print_orientation, gcode_url, the
--     estimates and actuals, printer_id, started_at, completed_at; id and org_id when
--     creating. credits_used: the server's (0 for local work).
--   everyone: id and org_id never change; design_project_id is a project of the same
--     organisation (on insert and on every change); gcode_url a path in its folder.
create or replace function public.guard_print_jobs() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('print_jobs', to_jsonb(old), to_jsonb(new), array['id', 'org_id']);
  end if;
  if private.writer() = 'client' then
    if tg_op = 'INSERT' then
      if new.credits_used <> 0 then
        perform private.refuse('print_jobs', 'credits_used', 'what a job cost is the server''s record');
      end if;
    else
      perform private.only_changes('print_jobs', to_jsonb(old), to_jsonb(new), array[
        'design_project_id', 'status', 'material', 'color', 'infill_percent', 'support_material', 'layer_height',
        'print_orientation', 'gcode_url', 'estimated_time_minutes', 'actual_time_minutes',
        'estimated_material_grams', 'actual_material_grams', 'printer_id', 'started_at', 'completed_at'],
        '{"credits_used": "what a job cost is the server''s record"}');
    end if;
  end if;
  if new.design_project_id is not null
     and (tg_op = 'INSERT' or new.design_project_id is distinct from old.design_project_id)
     and not exists (select 1 from public.design_studio_projects p
                      where p.id = new.design_project_id and p.org_id = new.org_id) then
    perform private.refuse('print_jobs', 'design_project_id', 'it must name a project of the same organisation');
  end if;
  perform private.org_path('print_jobs', 'gcode_url', new.gcode_url, new.org_id);
  return new;
end
$$;

-- model_processing_jobs: written by submit_processing_job and the worker functions (and the
-- service role). everyone: id and org_id never change; project_id is a project of the
-- same organisation; source_url and thumbnail_url paths in its folder.
create or replace function public.guard_processing_jobs() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('model_processing_jobs', to_jsonb(old), to_jsonb(new), array['id', 'org_id']);
  end if;
  if new.project_id is not null
     and (tg_op = 'INSERT' or new.project_id is distinct from old.project_id)
     and not exists (select 1 from public.design_studio_projects p
                      where p.id = new.project_id and p.org_id = new.org_id) then
    perform private.refuse('model_processing_jobs', 'project_id', 'it must name a project of the same organisation');
  end if;
  perform private.org_path('model_processing_jobs', 'source_url', new.source_url, new.org_id);
  perform private.org_path('model_processing_jobs', 'thumbnail_url', new.thumbnail_url, new.org_id);
  return new;
end
$$;


-- credit_purchases: the billing service's records (no client writes: no policy).
--   everyone: id and org_id never change (the ledger names a purchase by its id).
create or replace function public.guard_credit_purchases() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('credit_purchases', to_jsonb(old), to_jsonb(new), array['id', 'org_id']);
  end if;
  return new;
end
$$;


-- ---------------------------------------------------------------------------------------
-- Membership checks for policies by project and annotation, so that no function tells a
-- non-member which organisation owns an id. project_org / annotation_org stay for the
-- security-definer functions that use them, but answer only members (and the server).

create or replace function public.has_project_role(
  p_project_id uuid,
  p_roles text[] default array['owner', 'editor', 'reviewer', 'viewer']
) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (
    select 1 from public.design_studio_projects p
    join public.org_members m on m.org_id = p.org_id
    where p.id = p_project_id and m.user_id = auth.uid() and m.role = any (p_roles)
  )
$$;

create or replace function public.has_annotation_role(
  p_annotation_id uuid,
  p_roles text[] default array['owner', 'editor', 'reviewer', 'viewer']
) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (
    select 1 from public.design_studio_annotations a
    join public.design_studio_projects p on p.id = a.project_id
    join public.org_members m on m.org_id = p.org_id
    where a.id = p_annotation_id and m.user_id = auth.uid() and m.role = any (p_roles)
  )
$$;

create or replace function public.project_org(p_project_id uuid) returns uuid
language sql stable security definer set search_path = public as $$
  select p.org_id from public.design_studio_projects p
   where p.id = p_project_id
     and (auth.role() is null or auth.role() = 'service_role' or public.has_org_role(p.org_id))
$$;

create or replace function public.annotation_org(p_annotation_id uuid) returns uuid
language sql stable security definer set search_path = public as $$
  select p.org_id
    from public.design_studio_annotations a
    join public.design_studio_projects p on p.id = a.project_id
   where a.id = p_annotation_id
     and (auth.role() is null or auth.role() = 'service_role' or public.has_org_role(p.org_id))
$$;

alter policy versions_read on public.design_studio_versions using (public.has_project_role(project_id));
alter policy assets_read on public.design_studio_assets using (public.has_project_role(project_id));
alter policy assets_insert on public.design_studio_assets
  with check (public.has_project_role(project_id, array['owner', 'editor']));
alter policy assets_update on public.design_studio_assets
  using (public.has_project_role(project_id, array['owner', 'editor']))
  with check (public.has_project_role(project_id, array['owner', 'editor']));
alter policy assets_delete on public.design_studio_assets
  using (public.has_project_role(project_id, array['owner', 'editor']));
alter policy annotations_read on public.design_studio_annotations using (public.has_project_role(project_id));
alter policy annotations_insert on public.design_studio_annotations
  with check (author_id = (select auth.uid())
              and public.has_project_role(project_id, array['owner', 'editor', 'reviewer']));
alter policy annotations_update on public.design_studio_annotations
  using (public.has_project_role(project_id, array['owner', 'editor', 'reviewer']))
  with check (public.has_project_role(project_id, array['owner', 'editor', 'reviewer']));
alter policy annotations_delete on public.design_studio_annotations
  using (author_id = (select auth.uid()) or public.has_project_role(project_id, array['owner']));
alter policy replies_read on public.design_studio_annotation_replies using (public.has_annotation_role(annotation_id));
alter policy replies_insert on public.design_studio_annotation_replies
  with check (author_id = (select auth.uid())
              and public.has_annotation_role(annotation_id, array['owner', 'editor', 'reviewer']));
alter policy replies_delete on public.design_studio_annotation_replies
  using (author_id = (select auth.uid()) or public.has_annotation_role(annotation_id, array['owner']));
alter policy exports_read on public.design_studio_exports using (public.has_project_role(project_id));
alter policy exports_insert on public.design_studio_exports
  with check (public.has_project_role(project_id, array['owner', 'editor']));
alter policy exports_update on public.design_studio_exports
  using (public.has_project_role(project_id, array['owner', 'editor']))
  with check (public.has_project_role(project_id, array['owner', 'editor']));
alter policy exports_delete on public.design_studio_exports
  using (public.has_project_role(project_id, array['owner', 'editor']));
alter policy sessions_read on public.design_studio_sessions using (public.has_project_role(project_id));
alter policy sessions_insert on public.design_studio_sessions
  with check (user_id = (select auth.uid()) and public.has_project_role(project_id));
alter policy sessions_update on public.design_studio_sessions
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and public.has_project_role(project_id));
-- the guard trigger checks design_project_id on every write, for every writer
alter policy print_jobs_insert on public.print_jobs
  with check (public.has_org_role(org_id, array['owner', 'editor']));

-- the permission error names no organisation: the caller may not be one of its members
create or replace function public.require_org_role(p_org_id uuid, p_roles text[]) returns void
language plpgsql stable security definer set search_path = public as $$
begin
  if auth.role() is null or auth.role() = 'service_role' then
    return;
  end if;
  if p_org_id is null or not public.has_org_role(p_org_id, p_roles) then
    raise exception 'permission denied: needs role % in the organisation', array_to_string(p_roles, ' or ')
      using errcode = '42501';
  end if;
end
$$;

-- a project the caller cannot see gets the same answer whether or not it exists
create or replace function public.create_version(
  project_id uuid,
  snapshot jsonb,
  notes text default '',
  idempotency_key text default null,
  version_id uuid default null
) returns public.design_studio_versions
language plpgsql security definer set search_path = public as $$
declare
  p public.design_studio_projects;
  v public.design_studio_versions;
begin
  select * into p from public.design_studio_projects where id = create_version.project_id for update;
  if not found or not (auth.role() is null or auth.role() = 'service_role' or public.has_org_role(p.org_id)) then
    if auth.role() is null or auth.role() = 'service_role' then
      raise exception 'project % not found', create_version.project_id using errcode = 'PT404';
    end if;
    raise exception 'permission denied: project % is not one of your organisations''', create_version.project_id
      using errcode = '42501';
  end if;
  perform public.require_org_role(p.org_id, array['owner', 'editor']);
  if snapshot is null or jsonb_typeof(snapshot) <> 'object' then
    raise exception 'snapshot must be a JSON object' using errcode = '22023';
  end if;
  if idempotency_key is not null or version_id is not null then
    select * into v from public.design_studio_versions dv
     where dv.project_id = p.id
       and (dv.idempotency_key = create_version.idempotency_key or dv.id = create_version.version_id);
    if found then
      return v;
    end if;
  end if;
  insert into public.design_studio_versions (id, project_id, version_number, snapshot, notes, idempotency_key)
  values (coalesce(version_id, gen_random_uuid()), p.id, p.version_count + 1, snapshot,
          coalesce(notes, ''), idempotency_key)
  returning * into v;
  update public.design_studio_projects
     set version_count = v.version_number, current_version_id = v.id
   where id = p.id;
  return v;
end
$$;


-- ---------------------------------------------------------------------------------------
-- The outbox record (applied_mutations) is written by apply_mutations as its user: a user
-- reads and adds their own records, and changes none (a record is the first answer to a
-- mutation, replayed on a retry).

drop policy if exists applied_mutations_own on public.applied_mutations;
drop policy if exists applied_mutations_read on public.applied_mutations;
drop policy if exists applied_mutations_insert on public.applied_mutations;
create policy applied_mutations_read on public.applied_mutations for select to authenticated
  using (user_id = (select auth.uid()));
create policy applied_mutations_insert on public.applied_mutations for insert to authenticated
  with check (user_id = (select auth.uid()));

-- applied_mutations
--   client: id, entity, op, result when recording; user_id is the caller. Nothing changes.
create or replace function public.guard_applied_mutations() returns trigger
language plpgsql set search_path = public as $$
begin
  if tg_op = 'UPDATE' then
    perform private.never_changes('applied_mutations', to_jsonb(old), to_jsonb(new),
                                  array['id', 'user_id', 'entity', 'op', 'result']);
  elsif private.writer() = 'client' then
    new.user_id := private.author('applied_mutations', 'user_id', new.user_id);
  end if;
  return new;
end
$$;


-- ---------------------------------------------------------------------------------------
-- Rows written before these rules that break them: references into other organisations and
-- storage paths outside the row's organisation are cleared (the members could not reach
-- what they named anyway), and a project whose version_count was lowered gets it back, so
-- it can save versions again. Done before the guards exist; the rows' updated_at moves so
-- clients pull the corrected rows.

update public.design_studio_assets a
   set url = case when public.object_org(a.url) is distinct from p.org_id then null else a.url end,
       thumbnail_url = case when public.object_org(a.thumbnail_url) is distinct from p.org_id then null
                            else a.thumbnail_url end
  from public.design_studio_projects p
 where p.id = a.project_id
   and ((a.url is not null and public.object_org(a.url) is distinct from p.org_id)
        or (a.thumbnail_url is not null and public.object_org(a.thumbnail_url) is distinct from p.org_id));

update public.design_studio_annotations a set version_id = null
 where a.version_id is not null
   and not exists (select 1 from public.design_studio_versions v where v.id = a.version_id and v.project_id = a.project_id);

update public.design_studio_exports e set version_id = null
 where e.version_id is not null
   and not exists (select 1 from public.design_studio_versions v where v.id = e.version_id and v.project_id = e.project_id);

update public.print_jobs j set design_project_id = null
 where j.design_project_id is not null
   and not exists (select 1 from public.design_studio_projects p where p.id = j.design_project_id and p.org_id = j.org_id);

update public.model_processing_jobs j set project_id = null
 where j.project_id is not null
   and not exists (select 1 from public.design_studio_projects p where p.id = j.project_id and p.org_id = j.org_id);

update public.design_studio_projects p set source_project_id = null
 where p.source_project_id is not null
   and not exists (select 1 from public.design_studio_projects s
                    where s.id = p.source_project_id and s.org_id = p.org_id and s.id <> p.id);

update public.design_studio_projects p
   set version_count = greatest(p.version_count, v.top),
       current_version_id = case
         when p.current_version_id is null
              or not exists (select 1 from public.design_studio_versions c
                              where c.id = p.current_version_id and c.project_id = p.id)
         then v.top_id else p.current_version_id end
  from (select project_id, max(version_number) as top,
               (array_agg(id order by version_number desc))[1] as top_id
          from public.design_studio_versions group by project_id) v
 where v.project_id = p.id
   and (p.version_count < v.top
        or p.current_version_id is null
        or not exists (select 1 from public.design_studio_versions c
                        where c.id = p.current_version_id and c.project_id = p.id));

update public.design_studio_projects p set current_version_id = null
 where p.current_version_id is not null
   and not exists (select 1 from public.design_studio_versions c where c.id = p.current_version_id and c.project_id = p.id);


-- the guards, named so that they run before the stamping triggers (set_updated_at)
do $$
declare
  g record;
begin
  for g in select * from (values
      ('organizations', 'guard_organizations'), ('profiles', 'guard_profiles'),
      ('org_members', 'guard_org_members'), ('design_studio_projects', 'guard_projects'),
      ('design_studio_assets', 'guard_assets'), ('design_studio_annotations', 'guard_annotations'),
      ('design_studio_annotation_replies', 'guard_annotation_replies'), ('design_studio_exports', 'guard_exports'),
      ('design_studio_sessions', 'guard_sessions'), ('print_jobs', 'guard_print_jobs'),
      ('model_processing_jobs', 'guard_processing_jobs'), ('applied_mutations', 'guard_applied_mutations'),
      ('credit_purchases', 'guard_credit_purchases'))
      as t (tbl, fn)
  loop
    execute format('drop trigger if exists guard_columns on public.%I', g.tbl);
    execute format('create trigger guard_columns before insert or update on public.%I '
                   'for each row execute function public.%I()', g.tbl, g.fn);
  end loop;
end
$$;


-- ---------------------------------------------------------------------------------------
-- Privileges. anon writes nothing and calls nothing of ours. The tables kept by the
-- database's own functions (credits and their ledger, idempotency keys, versions) and the
-- users' outbox records take no direct writes from the service role either.

revoke insert, update, delete, truncate on all tables in schema public from anon;
revoke insert, update, delete, truncate on public.credits, public.credit_ledger, public.idempotency_keys,
  public.design_studio_versions from service_role;
revoke insert, update, delete, truncate on public.applied_mutations from service_role;
-- org_credit_summary is a view of credits: nobody writes through it
revoke insert, update, delete, truncate on public.org_credit_summary from anon, authenticated, service_role;

revoke execute on all functions in schema public from public, anon;
-- what clients use directly or through their policies and invoker functions
grant execute on function public.has_org_role, public.has_project_role, public.has_annotation_role,
  public.try_uuid, public.object_org, public.mutation_table, public.apply_mutation, public.apply_mutations,
  public.consume_credits, public.get_credit_balance, public.create_version, public.submit_processing_job,
  public.create_organization
  to authenticated;
grant execute on all functions in schema public to service_role;
revoke execute on function public.project_org, public.annotation_org, public.require_org_role,
  public.require_service_role from authenticated;
revoke execute on function public._credit_change, public._lock_credits, public._debit, public._release_hold,
  public._owned_job, public.handle_new_user, public.apply_mutation, public.apply_mutations from service_role;

do $$
begin
  -- the local storage schema (made by 20261123000700); a hosted project's is Supabase's own
  if to_regclass('storage.deleted_objects') is not null then
    revoke insert, update, delete, truncate on storage.objects from anon;
  end if;
end
$$;
