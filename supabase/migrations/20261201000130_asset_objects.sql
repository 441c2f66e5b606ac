-- Deleting an asset row deletes its object only when the object lies in the row's own
-- organisation's folder: the organisation of the row's project, not whatever path the url
-- claims. The guard (20261201000100) already refuses a url outside the project's folder; this
-- holds for rows written before it too, and for rows deleted by a cascade, when the project
-- row is already gone: its organisation is remembered, for the transaction, as it is deleted.

create or replace function public.remember_project_org() returns trigger
language plpgsql as $$
begin
  perform set_config('dstudio.project_org_' || replace(old.id::text, '-', ''), old.org_id::text, true);
  return old;
end
$$;

drop trigger if exists remember_project_org on public.design_studio_projects;
create trigger remember_project_org before delete on public.design_studio_projects
  for each row execute function public.remember_project_org();

create or replace function public.delete_asset_object() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  v_org uuid;
begin
  if old.url is null then
    return old;
  end if;
  select org_id into v_org from public.design_studio_projects where id = old.project_id;
  if v_org is null then  -- deleted with its project (or the project's organisation)
    v_org := nullif(current_setting('dstudio.project_org_' || replace(old.project_id::text, '-', ''), true), '')::uuid;
  end if;
  if v_org is null or public.object_org(old.url) is distinct from v_org then
    return old;  -- not a path of the row's organisation: not the row's to delete
  end if;
  -- the same bytes serve another live row of the organisation: they stay
  if not exists (select 1 from public.design_studio_assets a
                   join public.design_studio_projects p on p.id = a.project_id
                  where a.url = old.url and a.id <> old.id and p.org_id = v_org) then
    delete from storage.objects where bucket_id = 'assets' and name = old.url;
  end if;
  return old;
end
$$;

revoke execute on function public.remember_project_org, public.delete_asset_object from public, anon;
