-- Cloud processing jobs. Submitting holds the estimated credits; a worker claims a job
-- atomically with a lease it renews by heartbeats; finishing settles the hold (the unused
-- part comes back), failing retries up to max_retries and then refunds the hold. A job
-- whose lease ran out is claimable again.

create or replace function public._release_hold(p_job public.model_processing_jobs, p_amount integer, p_reason text)
returns void
language plpgsql security definer set search_path = public as $$
-- gives back p_amount of the job's hold to the sources it came from, purchased first
declare
  v_held_purchased integer;
  v_purchased integer;
begin
  if p_amount <= 0 then
    return;
  end if;
  perform public._lock_credits(p_job.org_id);
  select coalesce(-sum(delta), 0) into v_held_purchased
    from public.credit_ledger
   where reference_type = 'model_processing_job' and reference_id = p_job.id::text
     and credit_source = 'purchased';
  v_purchased := least(p_amount, greatest(v_held_purchased, 0));
  perform public._credit_change(p_job.org_id, p_amount - v_purchased, v_purchased, p_reason, 'refund',
                                'model_processing_job', p_job.id::text);
end
$$;

create or replace function public.submit_processing_job(
  org_id uuid,
  job_type text,
  credits_estimated integer,
  project_id uuid default null,
  source_url text default null,
  source_format text default null,
  target_formats text[] default '{}',
  parameters jsonb default '{}',
  priority integer default 0,
  queue_name text default 'default',
  max_retries integer default 3,
  idempotency_key text default null
) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  perform public.require_org_role(org_id, array['owner', 'editor']);
  if project_id is not null and public.project_org(project_id) is distinct from org_id then
    raise exception 'project % is not in organisation %', project_id, org_id using errcode = '42501';
  end if;
  perform public._lock_credits(org_id);
  if idempotency_key is not null then
    select * into j from public.model_processing_jobs mj
     where mj.org_id = submit_processing_job.org_id and mj.idempotency_key = submit_processing_job.idempotency_key;
    if found then
      return j;
    end if;
  end if;
  insert into public.model_processing_jobs
    (org_id, project_id, job_type, source_url, source_format, target_formats, parameters,
     credits_estimated, priority, queue_name, max_retries, idempotency_key)
  values (org_id, project_id, job_type, source_url, source_format, coalesce(target_formats, '{}'),
          coalesce(parameters, '{}'), coalesce(credits_estimated, 0), coalesce(priority, 0),
          coalesce(queue_name, 'default'), coalesce(max_retries, 3), idempotency_key)
  returning * into j;
  if j.credits_estimated > 0 then
    perform public._debit(j.org_id, j.credits_estimated, 'hold for ' || job_type || ' job', 'hold',
                          'model_processing_job', j.id::text);
  end if;
  return j;
end
$$;

create or replace function public.claim_next_job(
  worker_id text,
  queues text[] default array['default'],
  job_types text[] default null,
  lease_seconds integer default 60
) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  perform public.require_service_role();
  loop
    select * into j from public.model_processing_jobs mj
     where mj.queue_name = any (queues)
       and (job_types is null or mj.job_type = any (job_types))
       and ((mj.status = 'queued' and mj.available_at <= now())
            or (mj.status = 'processing' and mj.lease_expires_at < clock_timestamp()))
     order by mj.priority desc, mj.created_at, mj.id
     limit 1
     for update skip locked;
    if not found then
      return null;
    end if;
    if j.status = 'processing' then
      -- its worker vanished: that attempt counts as a failure
      if j.retry_count >= j.max_retries then
        update public.model_processing_jobs
           set status = 'failed', error_message = 'worker ' || coalesce(j.worker_id, '?') || ' stopped responding',
               completed_at = now(), lease_expires_at = null, worker_id = null
         where id = j.id returning * into j;
        perform public._release_hold(j, j.credits_estimated, 'refund: ' || j.job_type || ' job failed');
        continue;
      end if;
      j.retry_count := j.retry_count + 1;
    end if;
    update public.model_processing_jobs
       set status = 'processing', worker_id = claim_next_job.worker_id,
           lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds),
           heartbeat_at = clock_timestamp(), started_at = coalesce(started_at, now()),
           retry_count = j.retry_count
     where id = j.id
    returning * into j;
    return j;
  end loop;
end
$$;

create or replace function public._owned_job(p_job_id uuid, p_worker_id text) returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  select * into j from public.model_processing_jobs where id = p_job_id for update;
  if not found then
    raise exception 'job % not found', p_job_id using errcode = 'PT404';
  end if;
  if j.status <> 'processing' or j.worker_id is distinct from p_worker_id then
    raise exception 'job % is not held by worker % (status %, worker %)', p_job_id, p_worker_id, j.status, j.worker_id
      using errcode = 'PT409';
  end if;
  return j;
end
$$;

create or replace function public.heartbeat_job(job_id uuid, worker_id text, lease_seconds integer default 60)
returns timestamptz
language plpgsql security definer set search_path = public as $$
declare
  v_until timestamptz;
begin
  perform public.require_service_role();
  perform public._owned_job(job_id, worker_id);
  update public.model_processing_jobs
     set heartbeat_at = clock_timestamp(),
         lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds)
   where id = job_id
  returning lease_expires_at into v_until;
  return v_until;
end
$$;

create or replace function public.update_job_progress(job_id uuid, worker_id text, progress real,
                                                      lease_seconds integer default 60)
returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs;
begin
  perform public.require_service_role();
  perform public._owned_job(job_id, worker_id);
  update public.model_processing_jobs
     set progress = least(1, greatest(0, update_job_progress.progress)),
         heartbeat_at = clock_timestamp(),
         lease_expires_at = clock_timestamp() + make_interval(secs => lease_seconds)
   where id = job_id
  returning * into j;
  return j;
end
$$;

create or replace function public.complete_job(job_id uuid, worker_id text, outputs jsonb, credits_used integer)
returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs := public._owned_job(job_id, worker_id);
  v_used integer := least(greatest(coalesce(credits_used, j.credits_estimated), 0), j.credits_estimated);
begin
  perform public.require_service_role();
  update public.model_processing_jobs
     set status = 'completed', outputs = complete_job.outputs, credits_used = v_used, progress = 1,
         completed_at = now(), lease_expires_at = null
   where id = job_id
  returning * into j;
  perform public._release_hold(j, j.credits_estimated - v_used, 'refund: unused part of ' || j.job_type || ' hold');
  return j;
end
$$;

create or replace function public.fail_job(job_id uuid, worker_id text, error text, retry_delay_seconds integer default 0)
returns public.model_processing_jobs
language plpgsql security definer set search_path = public as $$
declare
  j public.model_processing_jobs := public._owned_job(job_id, worker_id);
begin
  perform public.require_service_role();
  if j.retry_count < j.max_retries then
    update public.model_processing_jobs
       set status = 'queued', retry_count = retry_count + 1, error_message = error,
           worker_id = null, lease_expires_at = null,
           available_at = now() + make_interval(secs => greatest(retry_delay_seconds, 0))
     where id = job_id
    returning * into j;
  else
    update public.model_processing_jobs
       set status = 'failed', error_message = error, completed_at = now(), credits_used = 0,
           lease_expires_at = null
     where id = job_id
    returning * into j;
    perform public._release_hold(j, j.credits_estimated, 'refund: ' || j.job_type || ' job failed');
  end if;
  return j;
end
$$;

revoke execute on function public._release_hold, public._owned_job from public, anon, authenticated;
revoke execute on function public.submit_processing_job from public, anon;
grant execute on function public.submit_processing_job to authenticated, service_role;
revoke execute on function public.claim_next_job, public.heartbeat_job, public.update_job_progress,
  public.complete_job, public.fail_job from public, anon, authenticated;
grant execute on function public.claim_next_job, public.heartbeat_job, public.update_job_progress,
  public.complete_job, public.fail_job to service_role;
