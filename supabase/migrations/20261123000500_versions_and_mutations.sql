-- Version numbers come from the project row, locked for the insert: 1, 2, 3... per project
-- with no gap or duplicate however many clients save at once.

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
  if not found then
    raise exception 'project % not found', create_version.project_id using errcode = 'PT404';
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

revoke execute on function public.create_version from public, anon;
grant execute on function public.create_version to authenticated, service_role;

-- The tables the desktop's outbox may write through apply_mutations, by entity name.
create or replace function public.mutation_table(p_entity text) returns text
language sql immutable as $$
  select case p_entity
    when 'project' then 'design_studio_projects'
    when 'asset' then 'design_studio_assets'
    when 'annotation' then 'design_studio_annotations'
    when 'annotation_reply' then 'design_studio_annotation_replies'
    when 'export' then 'design_studio_exports'
    when 'session' then 'design_studio_sessions'
    when 'print_job' then 'print_jobs'
  end
$$;

-- One mutation, as the caller (so row-level security applies). Returns the row after it.
create or replace function public.apply_mutation(p_mutation jsonb) returns jsonb
language plpgsql security invoker set search_path = public as $$
declare
  v_entity text := p_mutation ->> 'entity';
  v_op text := p_mutation ->> 'op';
  v_payload jsonb := p_mutation -> 'payload';
  v_table text := public.mutation_table(v_entity);
  v_cols text;
  v_sets text;
  v_row jsonb;
  v_conflict boolean;
  v_version public.design_studio_versions;
begin
  if v_payload is null or jsonb_typeof(v_payload) <> 'object' then
    raise exception 'mutation payload must be a JSON object' using errcode = '22023';
  end if;
  if v_entity = 'version' then
    if v_op not in ('insert', 'upsert') then
      raise exception 'versions are immutable: % is not allowed', v_op using errcode = '22023';
    end if;
    v_version := public.create_version(
      (v_payload ->> 'project_id')::uuid, v_payload -> 'snapshot', v_payload ->> 'notes',
      coalesce(v_payload ->> 'idempotency_key', p_mutation ->> 'id'), (v_payload ->> 'id')::uuid);
    return to_jsonb(v_version);
  end if;
  if v_table is null then
    raise exception 'unknown entity %', v_entity using errcode = '22023';
  end if;
  if v_payload ->> 'id' is null then
    raise exception 'payload of a % mutation needs an id', v_entity using errcode = '22023';
  end if;
  -- the payload's keys that are real columns of the table
  select string_agg(format('%I', a.attname), ', ' order by a.attnum),
         string_agg(format('%I = excluded.%I', a.attname, a.attname), ', ' order by a.attnum)
            filter (where a.attname <> 'id')
    into v_cols, v_sets
    from pg_attribute a
   where a.attrelid = format('public.%I', v_table)::regclass
     and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
     and v_payload ? a.attname;
  -- optimistic concurrency: a client that says which server state it last saw is refused
  -- (409) when the row has changed since, so neither side's edits are silently overwritten
  if p_mutation ? 'base_updated_at' and p_mutation ->> 'base_updated_at' is not null then
    execute format('select exists (select 1 from public.%I where id = ($1 ->> ''id'')::uuid and updated_at > $2)',
                   v_table)
      into v_conflict using v_payload, (p_mutation ->> 'base_updated_at')::timestamptz;
    if v_conflict then
      raise exception '% % changed on the server since this client last saw it', v_entity, v_payload ->> 'id'
        using errcode = 'PT409';
    end if;
  end if;
  if v_op in ('insert', 'upsert') then
    execute format(
      'insert into public.%1$I as t (%2$s) select %2$s from jsonb_populate_record(null::public.%1$I, $1) '
      'on conflict (id) do %3$s returning to_jsonb(t)',
      v_table, v_cols, coalesce('update set ' || v_sets, 'nothing'))
      into v_row using v_payload;
  elsif v_op = 'update' then
    execute format(
      'update public.%1$I as t set (%2$s) = (select %2$s from jsonb_populate_record(null::public.%1$I, $1)) '
      'where t.id = ($1 ->> ''id'')::uuid returning to_jsonb(t)',
      v_table, v_cols)
      into v_row using v_payload;
    if v_row is null then
      raise exception '% % not found or not yours to change', v_entity, v_payload ->> 'id' using errcode = 'PT404';
    end if;
  elsif v_op = 'delete' then
    execute format('delete from public.%1$I as t where t.id = ($1 ->> ''id'')::uuid returning to_jsonb(t)', v_table)
      into v_row using v_payload;
    if v_row is null then
      v_row := jsonb_build_object('id', v_payload ->> 'id', 'deleted', false);
    end if;
  else
    raise exception 'unknown op %', v_op using errcode = '22023';
  end if;
  if v_row is null then
    -- an insert whose conflicting row was not visible or not updatable
    raise exception 'permission denied for % %', v_entity, v_payload ->> 'id' using errcode = '42501';
  end if;
  return v_row;
end
$$;

-- Applies a batch from the desktop outbox. Each mutation runs once, keyed by its client
-- mutation id: a retry after a lost response reports `duplicate` with the first result.
-- One rejected mutation does not stop the others (each runs in its own subtransaction).
create or replace function public.apply_mutations(batch jsonb) returns jsonb
language plpgsql security invoker set search_path = public as $$
declare
  m jsonb;
  v_id uuid;
  v_prior jsonb;
  v_row jsonb;
  v_results jsonb := '[]';
begin
  if auth.uid() is null then
    raise exception 'apply_mutations needs a signed-in user' using errcode = '42501';
  end if;
  if batch is null or jsonb_typeof(batch) <> 'array' then
    raise exception 'batch must be a JSON array of mutations' using errcode = '22023';
  end if;
  for m in select value from jsonb_array_elements(batch)
  loop
    begin
      v_id := (m ->> 'id')::uuid;
      if v_id is null then
        raise exception 'mutation without an id' using errcode = '22023';
      end if;
      -- a concurrent retry of the same mutation waits here for the first to commit
      perform pg_advisory_xact_lock(hashtextextended('apply_mutations:' || v_id::text, 0));
      select am.result into v_prior from public.applied_mutations am where am.id = v_id;
      if found then
        v_results := v_results || jsonb_build_object('id', v_id, 'status', 'duplicate', 'row', v_prior);
        continue;
      end if;
      v_row := public.apply_mutation(m);
      insert into public.applied_mutations (id, entity, op, result)
      values (v_id, m ->> 'entity', m ->> 'op', v_row);
      v_results := v_results || jsonb_build_object('id', v_id, 'status', 'applied', 'row', v_row);
    exception when others then
      v_results := v_results || jsonb_build_object(
        'id', m ->> 'id', 'status', 'rejected', 'code', sqlstate, 'message', sqlerrm);
    end;
  end loop;
  return v_results;
end
$$;

revoke execute on function public.apply_mutation, public.apply_mutations from public, anon;
grant execute on function public.apply_mutation, public.apply_mutations to authenticated;
