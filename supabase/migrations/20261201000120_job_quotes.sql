-- Cloud jobs are priced and ranked by the database, never by the client.
--
--   quote_processing_job(org_id uuid, job_type text, source_format text default null,
--                        parameters jsonb default '{}') returns jsonb
--
-- answers any member of the organisation with
--   {"org_id", "tier", "job_type", "source_format", "quality", "credits", "priority",
--    "queue_name", "max_retries", "breakdown": {"base_credits", "format_credits", "quality_percent"}}
-- where
--   credits     = max(1, ceil((processing_job_types.base_credits
--                              + supported_formats.processing_credit_cost of source_format)
--                             * quality_percent[parameters.quality, default 'normal'] / 100))
--   priority    = tier_limits.job_priority of the organisation's plan + processing_job_types.priority
--   queue_name, max_retries = the job type's
-- and refuses (22023) an unknown or inactive job type, a source format the job type does not
-- take, an unknown quality; (PT402) a job type whose required plan feature
-- (tier_limits.features) the organisation's plan lacks. submit_processing_job holds exactly
-- this quote; expected_credits, when given, must equal it (PT409 otherwise), so what the
-- desktop showed is what is held.

alter table public.tier_limits add column if not exists job_priority integer not null default 0;
update public.tier_limits
   set job_priority = case tier_name when 'free' then 0 when 'pro' then 10 when 'studio' then 20 else job_priority end;

create table if not exists public.processing_job_types (
  job_type text primary key check (job_type ~ '^[a-z][a-z0-9_-]{0,62}$'),
  description text not null default '',
  base_credits integer not null default 0 check (base_credits >= 0),
  -- the supported_formats.category a source file must have; null: the job takes no source file
  source_categories text[],
  -- parameters.quality -> price in per cent of the base; 'normal' is the default quality
  quality_percent jsonb not null default '{"normal": 100}'
    check (jsonb_typeof(quality_percent) = 'object' and quality_percent ? 'normal'),
  -- a key of tier_limits.features the organisation's plan must have true, or null
  required_feature text,
  queue_name text not null default 'default',
  priority integer not null default 0,
  max_retries integer not null default 3 check (max_retries between 0 and 10),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.processing_job_types enable row level security;
revoke all on public.processing_job_types from public, anon, authenticated, service_role;
grant select on public.processing_job_types to anon, authenticated;
grant select, insert, update, delete on public.processing_job_types to service_role;
create policy processing_job_types_read on public.processing_job_types for select to authenticated using (true);
drop trigger if exists set_updated_at on public.processing_job_types;
create trigger set_updated_at before insert or update on public.processing_job_types
  for each row execute function public.set_updated_at();

insert into public.processing_job_types
  (job_type, description, base_credits, source_categories, quality_percent, required_feature, queue_name, priority,
   max_retries)
values
  ('reconstruct', 'photos (a zipped photo set) to a textured mesh', 0, array['image_set'],
   '{"draft": 50, "normal": 100, "high": 250}', 'cloud_reconstruction', 'reconstruct', 0, 2)
on conflict (job_type) do nothing;


-- the quote, with no permission check (the callers check)
create or replace function private.quote_job(p_org_id uuid, p_job_type text, p_source_format text, p_parameters jsonb)
returns jsonb
language plpgsql stable security definer set search_path = public as $$
declare
  jt public.processing_job_types;
  f public.supported_formats;
  t public.tier_limits;
  v_format text := lower(nullif(p_source_format, ''));
  v_parameters jsonb := coalesce(p_parameters, '{}');
  v_quality text;
  v_percent numeric;
  v_credits integer;
begin
  if jsonb_typeof(v_parameters) <> 'object' then
    raise exception 'parameters must be a JSON object' using errcode = '22023';
  end if;
  if pg_column_size(v_parameters) > 65536 then
    raise exception 'parameters take at most 64 KB' using errcode = '22023';
  end if;
  select * into jt from public.processing_job_types where job_type = p_job_type and is_active;
  if not found then
    raise exception 'unknown job type %', coalesce(p_job_type, '(none)') using errcode = '22023',
      hint = 'Job types: ' || coalesce((select string_agg(job_type, ', ' order by job_type)
                                          from public.processing_job_types where is_active), 'none');
  end if;
  if jt.source_categories is null then
    if v_format is not null then
      raise exception 'a % job takes no source file', jt.job_type using errcode = '22023';
    end if;
  else
    select * into f from public.supported_formats where extension = v_format and is_active and can_import;
    if not found or not (f.category = any (jt.source_categories)) then
      raise exception 'a % job takes % files, not %', jt.job_type, array_to_string(jt.source_categories, ' or '),
        coalesce('.' || v_format, 'none') using errcode = '22023';
    end if;
  end if;
  v_quality := coalesce(v_parameters ->> 'quality', 'normal');
  if not jt.quality_percent ? v_quality then
    raise exception 'quality % is not one of %', v_quality,
      (select string_agg(k, ', ' order by k) from jsonb_object_keys(jt.quality_percent) k) using errcode = '22023';
  end if;
  v_percent := (jt.quality_percent ->> v_quality)::numeric;
  t := private.plan(p_org_id);
  if t.tier_name is null then
    raise exception 'organisation % not found', p_org_id using errcode = 'PT404';
  end if;
  if jt.required_feature is not null and coalesce((t.features ->> jt.required_feature)::boolean, false) is false then
    raise exception 'the % plan does not include % (% jobs)', t.tier_name, jt.required_feature, jt.job_type
      using errcode = 'PT402',
            detail = json_build_object('limit', 'feature', 'feature', jt.required_feature, 'tier', t.tier_name)::text,
            hint = 'Upgrade the organisation''s plan.';
  end if;
  v_credits := greatest(1, ceil((jt.base_credits + coalesce(f.processing_credit_cost, 0)) * v_percent / 100))::integer;
  return jsonb_build_object(
    'org_id', p_org_id, 'tier', t.tier_name, 'job_type', jt.job_type, 'source_format', v_format,
    'quality', v_quality, 'credits', v_credits, 'priority', t.job_priority + jt.priority,
    'queue_name', jt.queue_name, 'max_retries', jt.max_retries,
    'breakdown', jsonb_build_object('base_credits', jt.base_credits,
                                    'format_credits', coalesce(f.processing_credit_cost, 0),
                                    'quality_percent', v_percent));
end
$$;

create or replace function public.quote_processing_job(
  org_id uuid,
  job_type text,
  source_format text default null,
  parameters jsonb default '{}'
) returns jsonb
language plpgsql stable security definer set search_path = public as $$
begin
  perform public.require_org_role(org_id, array['owner', 'editor', 'reviewer', 'viewer']);
  return private.quote_job(org_id, job_type, source_format, parameters);
end
$$;

drop function if exists public.submit_processing_job(uuid, text, integer, uuid, text, text, text[], jsonb, integer,
                                                     text, integer, text);
create or replace function public.submit_processing_job(
  org_id uuid,
  job_type text,
  project_id uuid default null,
  source_url text default null,
  source_format text default null,
  target_formats text[] default '{}',
  parameters jsonb default '{}',
  idempotency_key text default null,
  expected_credits integer default null
) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
  q jsonb;
  v_bad text;
begin
  perform public.require_org_role(org_id, array['owner', 'editor']);
  if project_id is not null and not exists (
      select 1 from public.design_studio_projects p where p.id = submit_processing_job.project_id
         and p.org_id = submit_processing_job.org_id) then
    raise exception 'project % is not in this organisation', project_id using errcode = '42501';
  end if;
  perform public._lock_credits(org_id);
  if idempotency_key is not null then
    select * into j from public.model_processing_jobs mj
     where mj.org_id = submit_processing_job.org_id and mj.idempotency_key = submit_processing_job.idempotency_key;
    if found then
      return j;
    end if;
  end if;
  q := private.quote_job(org_id, job_type, source_format, parameters);
  if expected_credits is not null and expected_credits is distinct from (q ->> 'credits')::integer then
    raise exception 'the job costs % credits, not %', q ->> 'credits', expected_credits
      using errcode = 'PT409', detail = q::text, hint = 'Show the new price and submit again.';
  end if;
  select t into v_bad from unnest(coalesce(target_formats, '{}')) t
   where not exists (select 1 from public.supported_formats f where f.extension = t and f.can_export and f.is_active)
   limit 1;
  if v_bad is not null then
    raise exception 'cannot export to %', v_bad using errcode = '22023';
  end if;
  insert into public.model_processing_jobs
    (org_id, project_id, job_type, source_url, source_format, target_formats, parameters,
     credits_estimated, priority, queue_name, max_retries, idempotency_key)
  values (org_id, project_id, q ->> 'job_type', source_url, q ->> 'source_format', coalesce(target_formats, '{}'),
          coalesce(parameters, '{}') || jsonb_build_object('quality', q ->> 'quality'),
          (q ->> 'credits')::integer, (q ->> 'priority')::integer, q ->> 'queue_name',
          (q ->> 'max_retries')::integer, idempotency_key)
  returning * into j;
  perform public._debit(j.org_id, j.credits_estimated, 'hold for ' || j.job_type || ' job', 'hold',
                        'model_processing_job', j.id::text);
  return j;
end
$$;

revoke execute on function public.quote_processing_job, public.submit_processing_job from public, anon;
grant execute on function public.quote_processing_job, public.submit_processing_job to authenticated, service_role;
revoke all on function private.quote_job from public, anon, authenticated;
grant execute on function private.quote_job to service_role;
