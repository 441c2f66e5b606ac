-- Cloud jobs end to end: the quote's breakdown (a reconstruction's base, its photos and the
-- quality; an export's target formats and preset), the balance beside the price, the
-- `export` job type, and cancel_job.
--
--   quote_processing_job(org_id, job_type, source_format default null, parameters default '{}',
--                        target_formats default '{}') returns jsonb
--
-- now answers, beside what 20261201000120 listed,
--   "images"            the photos the job names (parameters.images, a list of
--                       {"name", "path", "sha256"} in the organisation's folder)
--   "breakdown"         {"base_credits", "format_credits", "per_image_credits", "images",
--                        "target_credits", "quality_percent"}
--   "balance", "monthly_remaining", "purchased_balance", "sufficient"
-- with
--   credits = max(1, ceil((base + source format cost + per_image_credits * images
--                          + sum of the target formats' costs) * quality_percent / 100))
-- (an export's source, the version's GLB, costs nothing: it is priced by its targets).
-- (parameters.preset is another name for parameters.quality: an export's preset).
--
-- submit_processing_job holds that quote. It still takes `credits_estimated`, which old
-- clients send, and ignores it: what a client says a job costs never reaches the row.
--
-- cancel_job(job_id) (an owner or editor of the job's organisation): a queued or running job
-- ends `cancelled` and its whole hold comes back; its worker's next heartbeat, progress or
-- completion is refused with PT410 (HTTP 410 Gone), so it stops and writes nothing.
--
-- release_job(job_id, worker_id) (service role): a worker that is told to stop (SIGTERM)
-- gives its job back to the queue as it was, without spending one of its retries.

alter table public.processing_job_types
  add column if not exists per_image_credits integer not null default 0 check (per_image_credits >= 0),
  add column if not exists takes_targets boolean not null default false;

-- every photo format the pipeline reads, and the report a worker writes beside its mesh
insert into public.supported_formats
  (extension, mime_type, category, display_name, can_import, can_export, requires_processing, max_file_size_mb,
   processing_credit_cost)
values
  ('tif', 'image/tiff', 'image', 'TIFF image', true, false, false, 200, 0),
  ('tiff', 'image/tiff', 'image', 'TIFF image', true, false, false, 200, 0),
  ('bmp', 'image/bmp', 'image', 'BMP image', true, false, false, 100, 0),
  ('webp', 'image/webp', 'image', 'WebP image', true, false, false, 50, 0),
  ('json', 'application/json', 'report', 'JSON report', false, true, false, 20, 0)
on conflict (extension) do nothing;

-- a cloud export's price per target format (a local export is free whatever the format)
update public.supported_formats set processing_credit_cost = 2 where extension in ('glb', 'gltf') and processing_credit_cost = 0;
update public.supported_formats set processing_credit_cost = 1 where extension in ('obj', 'stl', 'ply', '3mf')
   and processing_credit_cost = 0;

-- a reconstruction takes a zipped photo set or the photos one by one
update public.processing_job_types
   set base_credits = 2, per_image_credits = 1, source_categories = array['image_set', 'image'],
       description = 'photos (one by one, or a zipped set) to a coloured mesh with its report'
 where job_type = 'reconstruct';

insert into public.processing_job_types
  (job_type, description, base_credits, source_categories, quality_percent, required_feature, queue_name, priority,
   max_retries, takes_targets)
values
  ('export', 'a project version (its GLB, uploaded by the desktop) optimised on the server by gltfpack: '
   'meshopt-compressed and quantised (normal), also simplified to half (web), or three levels of detail (lod)',
   1, array['mesh'], '{"normal": 100, "web": 150, "lod": 250}', null, 'export', 0, 2, true)
on conflict (job_type) do nothing;


drop function if exists public.quote_processing_job(uuid, text, text, jsonb);
drop function if exists public.submit_processing_job(uuid, text, uuid, text, text, text[], jsonb, text, integer);
drop function if exists private.quote_job(uuid, text, text, jsonb);

-- the photos of parameters.images: a list of {"name", "path", "sha256"} in the organisation's folder
create or replace function private.job_images(p_org_id uuid, p_parameters jsonb) returns integer
language plpgsql immutable as $$
declare
  v_images jsonb := p_parameters -> 'images';
  v_image jsonb;
begin
  if v_images is null or v_images = 'null'::jsonb then
    return 0;
  end if;
  if jsonb_typeof(v_images) <> 'array' then
    raise exception 'parameters.images must be a list of photos' using errcode = '22023';
  end if;
  if jsonb_array_length(v_images) > 2000 then
    raise exception 'a job takes at most 2000 photos, not %', jsonb_array_length(v_images) using errcode = '22023';
  end if;
  for v_image in select * from jsonb_array_elements(v_images) loop
    if jsonb_typeof(v_image) <> 'object' or jsonb_typeof(v_image -> 'path') is distinct from 'string'
       or jsonb_typeof(v_image -> 'name') is distinct from 'string' then
      raise exception 'each of parameters.images is {"name", "path", "sha256"}' using errcode = '22023';
    end if;
    if public.object_org(v_image ->> 'path') is distinct from p_org_id then
      raise exception 'photo % is not in the organisation''s folder (<org_id>/...)', v_image ->> 'name'
        using errcode = '42501';
    end if;
    if (v_image ->> 'name') !~ '^[^/\\]{1,200}$' then
      raise exception 'photo name % is not a plain file name', v_image ->> 'name' using errcode = '22023';
    end if;
  end loop;
  return jsonb_array_length(v_images);
end
$$;

-- the quote, with no permission check (the callers check)
create or replace function private.quote_job(p_org_id uuid, p_job_type text, p_source_format text, p_parameters jsonb,
                                             p_target_formats text[] default '{}')
returns jsonb
language plpgsql stable security definer set search_path = public as $$
declare
  jt public.processing_job_types;
  f public.supported_formats;
  t public.tier_limits;
  v_format text := lower(nullif(p_source_format, ''));
  v_parameters jsonb := coalesce(p_parameters, '{}');
  v_targets text[] := coalesce(p_target_formats, '{}');
  v_quality text;
  v_percent numeric;
  v_images integer;
  v_target_credits integer := 0;
  v_bad text;
  v_credits integer;
begin
  if jsonb_typeof(v_parameters) <> 'object' then
    raise exception 'parameters must be a JSON object' using errcode = '22023';
  end if;
  if pg_column_size(v_parameters) > 262144 then
    raise exception 'parameters take at most 256 KB' using errcode = '22023';
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
  v_images := private.job_images(p_org_id, v_parameters);
  if f.category = 'image' and v_images < 1 then
    raise exception 'a % job from single photos names them in parameters.images', jt.job_type using errcode = '22023';
  end if;
  select x into v_bad from unnest(v_targets) x
   where not exists (select 1 from public.supported_formats sf where sf.extension = x and sf.can_export and sf.is_active)
   limit 1;
  if v_bad is not null then
    raise exception 'cannot export to %', v_bad using errcode = '22023';
  end if;
  if jt.takes_targets then
    if cardinality(v_targets) = 0 then
      raise exception 'a % job names its target formats', jt.job_type using errcode = '22023';
    end if;
    select coalesce(sum(sf.processing_credit_cost), 0) into v_target_credits
      from unnest(v_targets) x join public.supported_formats sf on sf.extension = x;
  end if;
  v_quality := coalesce(v_parameters ->> 'quality', v_parameters ->> 'preset', 'normal');
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
  if jt.takes_targets then
    f.processing_credit_cost := 0;  -- an export is priced by what it makes, not by what it reads
  end if;
  v_credits := greatest(1, ceil((jt.base_credits + coalesce(f.processing_credit_cost, 0)
                                 + jt.per_image_credits * v_images + v_target_credits) * v_percent / 100))::integer;
  return jsonb_build_object(
    'org_id', p_org_id, 'tier', t.tier_name, 'job_type', jt.job_type, 'source_format', v_format,
    'target_formats', to_jsonb(v_targets), 'quality', v_quality, 'images', v_images, 'credits', v_credits,
    'priority', t.job_priority + jt.priority, 'queue_name', jt.queue_name, 'max_retries', jt.max_retries,
    'breakdown', jsonb_build_object('base_credits', jt.base_credits,
                                    'format_credits', coalesce(f.processing_credit_cost, 0),
                                    'per_image_credits', jt.per_image_credits, 'images', v_images,
                                    'target_credits', v_target_credits,
                                    'quality_percent', v_percent));
end
$$;

create or replace function public.quote_processing_job(
  org_id uuid,
  job_type text,
  source_format text default null,
  parameters jsonb default '{}',
  target_formats text[] default '{}'
) returns jsonb
language plpgsql stable security definer set search_path = public as $$
declare
  q jsonb;
  c public.credits;
begin
  perform public.require_org_role(org_id, array['owner', 'editor', 'reviewer', 'viewer']);
  q := private.quote_job(org_id, job_type, source_format, parameters, target_formats);
  select * into c from public.credits where credits.org_id = quote_processing_job.org_id;
  return q || jsonb_build_object(
    'balance', coalesce(c.balance, 0),
    'monthly_remaining', coalesce(c.monthly_allocation - c.monthly_credits_used, 0),
    'purchased_balance', coalesce(c.purchased_balance, 0),
    'sufficient', coalesce(c.balance, 0) >= (q ->> 'credits')::integer);
end
$$;

create or replace function public.submit_processing_job(
  org_id uuid,
  job_type text,
  project_id uuid default null,
  source_url text default null,
  source_format text default null,
  target_formats text[] default '{}',
  parameters jsonb default '{}',
  idempotency_key text default null,
  expected_credits integer default null,
  credits_estimated integer default null  -- ignored: the price is the server's quote
) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
  q jsonb;
begin
  perform public.require_org_role(org_id, array['owner', 'editor']);
  if project_id is not null and not exists (
      select 1 from public.design_studio_projects p where p.id = submit_processing_job.project_id
         and p.org_id = submit_processing_job.org_id) then
    raise exception 'project % is not in this organisation', project_id using errcode = '42501';
  end if;
  if idempotency_key is not null and length(idempotency_key) not between 1 and 200 then
    raise exception 'an idempotency key has 1 to 200 characters' using errcode = '22023';
  end if;
  perform public._lock_credits(org_id);
  if idempotency_key is not null then
    select * into j from public.model_processing_jobs mj
     where mj.org_id = submit_processing_job.org_id and mj.idempotency_key = submit_processing_job.idempotency_key;
    if found then
      return j;
    end if;
  end if;
  q := private.quote_job(org_id, job_type, source_format, parameters, target_formats);
  if expected_credits is not null and expected_credits is distinct from (q ->> 'credits')::integer then
    raise exception 'the job costs % credits, not %', q ->> 'credits', expected_credits
      using errcode = 'PT409', detail = q::text, hint = 'Show the new price and submit again.';
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

-- a job its worker may still write: held by it and running; a cancelled one is gone (PT410)
create or replace function public._owned_job(p_job_id uuid, p_worker_id text) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  select * into j from public.model_processing_jobs where id = p_job_id for update;
  if not found then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  if j.status = 'cancelled' then
    raise exception 'job % was cancelled', p_job_id using errcode = 'PT410',
      hint = 'Stop working on it and write nothing: its hold was refunded.';
  end if;
  if j.status <> 'processing' or j.worker_id is distinct from p_worker_id then
    raise exception 'job % is not held by worker % (status %, worker %)', p_job_id, p_worker_id, j.status, j.worker_id
      using errcode = 'PT409';
  end if;
  return j;
end
$$;

create or replace function public.cancel_job(job_id uuid) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  select * into j from public.model_processing_jobs where id = job_id for update;
  if not found or not (auth.role() is null or auth.role() = 'service_role'
                       or public.has_org_role(j.org_id, array['owner', 'editor', 'reviewer', 'viewer'])) then
    raise exception 'job % not found', job_id using errcode = 'PT404';
  end if;
  perform public.require_org_role(j.org_id, array['owner', 'editor']);
  if j.status = 'cancelled' then
    return j;  -- cancelling twice is cancelling once
  end if;
  if j.status not in ('queued', 'processing') then
    raise exception 'job % has ended (%): there is nothing to cancel', job_id, j.status using errcode = 'PT409';
  end if;
  update public.model_processing_jobs
     set status = 'cancelled', completed_at = now(), lease_expires_at = null, credits_used = 0,
         error_message = 'cancelled'
   where id = j.id
  returning * into j;
  perform public._release_hold(j, j.credits_estimated, 'refund: ' || j.job_type || ' job cancelled');
  return j;
end
$$;

create or replace function public.release_job(job_id uuid, worker_id text) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  perform public.require_service_role();
  perform public._owned_job(job_id, worker_id);
  update public.model_processing_jobs
     set status = 'queued', worker_id = null, lease_expires_at = null, progress = 0, available_at = now()
   where id = job_id
  returning * into j;
  return j;
end
$$;

revoke execute on function public.release_job from public, anon, authenticated;
grant execute on function public.release_job to service_role;

revoke all on function private.job_images, private.quote_job from public, anon, authenticated;
grant execute on function private.job_images, private.quote_job to service_role;
revoke execute on function public._owned_job from public, anon, authenticated;
revoke execute on function public.quote_processing_job, public.submit_processing_job, public.cancel_job
  from public, anon;
grant execute on function public.quote_processing_job, public.submit_processing_job, public.cancel_job
  to authenticated, service_role;
