-- Row-level security: a user sees and changes only rows of organisations they belong to,
-- with their role's rights. owner and editor edit; reviewer reads and annotates; viewer
-- reads. The service role has BYPASSRLS. Tables with no write policy are written only by
-- the security-definer functions of the later migrations.

-- security definer so policies on org_members do not recurse into themselves
create or replace function public.has_org_role(
  p_org_id uuid,
  p_roles text[] default array['owner', 'editor', 'reviewer', 'viewer']
) returns boolean
language sql stable security definer set search_path = public as $$
  select exists (
    select 1 from public.org_members
    where org_id = p_org_id and user_id = auth.uid() and role = any (p_roles)
  )
$$;

create or replace function public.project_org(p_project_id uuid) returns uuid
language sql stable security definer set search_path = public as $$
  select org_id from public.design_studio_projects where id = p_project_id
$$;

create or replace function public.annotation_org(p_annotation_id uuid) returns uuid
language sql stable security definer set search_path = public as $$
  select p.org_id
  from public.design_studio_annotations a
  join public.design_studio_projects p on p.id = a.project_id
  where a.id = p_annotation_id
$$;

-- the check inside security-definer functions: callers with no JWT claims at all are
-- direct database sessions (migrations, psql as the owner) and are trusted like the
-- service role
create or replace function public.require_org_role(p_org_id uuid, p_roles text[]) returns void
language plpgsql stable security definer set search_path = public as $$
begin
  if auth.role() is null or auth.role() = 'service_role' then
    return;
  end if;
  if p_org_id is null or not public.has_org_role(p_org_id, p_roles) then
    raise exception 'permission denied: needs role % in organisation %', array_to_string(p_roles, ' or '), p_org_id
      using errcode = '42501';
  end if;
end
$$;

create or replace function public.require_service_role() returns void
language plpgsql stable as $$
begin
  if auth.role() is not null and auth.role() <> 'service_role' then
    raise exception 'permission denied: service role only' using errcode = '42501';
  end if;
end
$$;

-- row-level security on every table of the schema; a table no policy opens stays closed
do $$
declare
  t text;
begin
  for t in select tablename from pg_tables where schemaname = 'public'
  loop
    execute format('alter table public.%I enable row level security', t);
  end loop;
end
$$;

grant usage on schema public to anon, authenticated, service_role;
grant select, insert, update, delete on all tables in schema public to anon, authenticated, service_role;
grant usage, select on all sequences in schema public to authenticated, service_role;
revoke all on public.idempotency_keys from anon, authenticated;

-- reference data: any signed-in user reads it
create policy tier_limits_read on public.tier_limits for select to authenticated using (true);
create policy supported_formats_read on public.supported_formats for select to authenticated using (true);

-- profiles: yourself and the people you share an organisation with
create policy profiles_read on public.profiles for select to authenticated using (
  id = (select auth.uid())
  or exists (
    select 1 from public.org_members mine
    join public.org_members theirs on theirs.org_id = mine.org_id
    where mine.user_id = (select auth.uid()) and theirs.user_id = profiles.id
  )
);
create policy profiles_update on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

create policy organizations_read on public.organizations for select to authenticated
  using (public.has_org_role(id));
create policy organizations_update on public.organizations for update to authenticated
  using (public.has_org_role(id, array['owner'])) with check (public.has_org_role(id, array['owner']));

create policy org_members_read on public.org_members for select to authenticated
  using (public.has_org_role(org_id));
create policy org_members_insert on public.org_members for insert to authenticated
  with check (public.has_org_role(org_id, array['owner']));
create policy org_members_update on public.org_members for update to authenticated
  using (public.has_org_role(org_id, array['owner'])) with check (public.has_org_role(org_id, array['owner']));
create policy org_members_delete on public.org_members for delete to authenticated
  using (public.has_org_role(org_id, array['owner']) or user_id = (select auth.uid()));

-- the scene: everyone in the org reads, owners and editors write
create policy projects_read on public.design_studio_projects for select to authenticated
  using (public.has_org_role(org_id));
create policy projects_insert on public.design_studio_projects for insert to authenticated
  with check (public.has_org_role(org_id, array['owner', 'editor']));
create policy projects_update on public.design_studio_projects for update to authenticated
  using (public.has_org_role(org_id, array['owner', 'editor']))
  with check (public.has_org_role(org_id, array['owner', 'editor']));
create policy projects_delete on public.design_studio_projects for delete to authenticated
  using (public.has_org_role(org_id, array['owner', 'editor']));

-- versions are immutable and numbered by create_version(); members read them
create policy versions_read on public.design_studio_versions for select to authenticated
  using (public.has_org_role(public.project_org(project_id)));

create policy assets_read on public.design_studio_assets for select to authenticated
  using (public.has_org_role(public.project_org(project_id)));
create policy assets_insert on public.design_studio_assets for insert to authenticated
  with check (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));
create policy assets_update on public.design_studio_assets for update to authenticated
  using (public.has_org_role(public.project_org(project_id), array['owner', 'editor']))
  with check (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));
create policy assets_delete on public.design_studio_assets for delete to authenticated
  using (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));

-- review: reviewers annotate, reply and resolve; text belongs to its author
create policy annotations_read on public.design_studio_annotations for select to authenticated
  using (public.has_org_role(public.project_org(project_id)));
create policy annotations_insert on public.design_studio_annotations for insert to authenticated
  with check (author_id = (select auth.uid())
              and public.has_org_role(public.project_org(project_id), array['owner', 'editor', 'reviewer']));
create policy annotations_update on public.design_studio_annotations for update to authenticated
  using (public.has_org_role(public.project_org(project_id), array['owner', 'editor', 'reviewer']))
  with check (public.has_org_role(public.project_org(project_id), array['owner', 'editor', 'reviewer']));
create policy annotations_delete on public.design_studio_annotations for delete to authenticated
  using (author_id = (select auth.uid()) or public.has_org_role(public.project_org(project_id), array['owner']));

create policy replies_read on public.design_studio_annotation_replies for select to authenticated
  using (public.has_org_role(public.annotation_org(annotation_id)));
create policy replies_insert on public.design_studio_annotation_replies for insert to authenticated
  with check (author_id = (select auth.uid())
              and public.has_org_role(public.annotation_org(annotation_id), array['owner', 'editor', 'reviewer']));
create policy replies_update on public.design_studio_annotation_replies for update to authenticated
  using (author_id = (select auth.uid())) with check (author_id = (select auth.uid()));
create policy replies_delete on public.design_studio_annotation_replies for delete to authenticated
  using (author_id = (select auth.uid()) or public.has_org_role(public.annotation_org(annotation_id), array['owner']));

create policy exports_read on public.design_studio_exports for select to authenticated
  using (public.has_org_role(public.project_org(project_id)));
create policy exports_insert on public.design_studio_exports for insert to authenticated
  with check (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));
create policy exports_update on public.design_studio_exports for update to authenticated
  using (public.has_org_role(public.project_org(project_id), array['owner', 'editor']))
  with check (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));
create policy exports_delete on public.design_studio_exports for delete to authenticated
  using (public.has_org_role(public.project_org(project_id), array['owner', 'editor']));

-- presence: members see who is in a project; each user writes only their own session
create policy sessions_read on public.design_studio_sessions for select to authenticated
  using (public.has_org_role(public.project_org(project_id)));
create policy sessions_insert on public.design_studio_sessions for insert to authenticated
  with check (user_id = (select auth.uid()) and public.has_org_role(public.project_org(project_id)));
create policy sessions_update on public.design_studio_sessions for update to authenticated
  using (user_id = (select auth.uid()))
  with check (user_id = (select auth.uid()) and public.has_org_role(public.project_org(project_id)));
create policy sessions_delete on public.design_studio_sessions for delete to authenticated
  using (user_id = (select auth.uid()));

-- money: members read; only the credit functions write
create policy credits_read on public.credits for select to authenticated
  using (public.has_org_role(org_id));
create policy credit_ledger_read on public.credit_ledger for select to authenticated
  using (public.has_org_role(org_id));
create policy credit_purchases_read on public.credit_purchases for select to authenticated
  using (public.has_org_role(org_id, array['owner']));

-- jobs: members read; submit_processing_job() and the worker functions write
create policy jobs_read on public.model_processing_jobs for select to authenticated
  using (public.has_org_role(org_id));

create policy print_jobs_read on public.print_jobs for select to authenticated
  using (public.has_org_role(org_id));
create policy print_jobs_insert on public.print_jobs for insert to authenticated
  with check (public.has_org_role(org_id, array['owner', 'editor'])
              and (design_project_id is null or public.project_org(design_project_id) = org_id));
create policy print_jobs_update on public.print_jobs for update to authenticated
  using (public.has_org_role(org_id, array['owner', 'editor']))
  with check (public.has_org_role(org_id, array['owner', 'editor']));
create policy print_jobs_delete on public.print_jobs for delete to authenticated
  using (public.has_org_role(org_id, array['owner', 'editor']));

create policy applied_mutations_own on public.applied_mutations for all to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
