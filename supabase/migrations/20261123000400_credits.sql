-- Credits: one source of truth (the `credits` row and `credit_ledger`), changed only here.
-- Each change locks the org's credits row first, so concurrent calls queue on that one lock;
-- the ledger gets a row per credit source with the balance after it.

create or replace function public._credit_change(
  p_org_id uuid, p_monthly integer, p_purchased integer, p_reason text, p_category text,
  p_reference_type text, p_reference_id text, p_metadata jsonb default '{}'
) returns integer
language plpgsql security definer set search_path = public as $$
-- p_monthly / p_purchased: signed deltas per source; the caller holds the row lock
declare
  c public.credits;
begin
  update public.credits
     set monthly_credits_used = monthly_credits_used - p_monthly,
         purchased_balance = purchased_balance + p_purchased,
         balance = balance + p_monthly + p_purchased
   where org_id = p_org_id
  returning * into c;
  if p_monthly <> 0 then
    insert into public.credit_ledger
      (org_id, delta, running_balance, reason, category, reference_type, reference_id, credit_source, metadata)
    values (p_org_id, p_monthly, c.balance - p_purchased, p_reason, p_category, p_reference_type,
            p_reference_id, 'monthly', p_metadata);
  end if;
  if p_purchased <> 0 then
    insert into public.credit_ledger
      (org_id, delta, running_balance, reason, category, reference_type, reference_id, credit_source, metadata)
    values (p_org_id, p_purchased, c.balance, p_reason, p_category, p_reference_type,
            p_reference_id, 'purchased', p_metadata);
  end if;
  return c.balance;
end
$$;

create or replace function public._lock_credits(p_org_id uuid) returns public.credits
language plpgsql security definer set search_path = public as $$
declare
  c public.credits;
begin
  select * into c from public.credits where org_id = p_org_id for update;
  if not found then
    raise exception 'organisation % has no credit account', p_org_id using errcode = 'PT404';
  end if;
  return c;
end
$$;

-- spends monthly credits before purchased ones; returns {balance, monthly, purchased}
create or replace function public._debit(
  p_org_id uuid, p_amount integer, p_reason text, p_category text,
  p_reference_type text, p_reference_id text
) returns jsonb
language plpgsql security definer set search_path = public as $$
declare
  c public.credits := public._lock_credits(p_org_id);
  v_monthly integer;
  v_balance integer;
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be a positive number of credits, not %', p_amount using errcode = '22023';
  end if;
  if c.balance < p_amount then
    raise exception 'insufficient credits: % available, % required', c.balance, p_amount
      using errcode = 'PT402',
            detail = json_build_object('available', c.balance, 'required', p_amount)::text,
            hint = 'Buy more credits or wait for the monthly reset.';
  end if;
  v_monthly := least(p_amount, c.monthly_allocation - c.monthly_credits_used);
  v_balance := public._credit_change(p_org_id, -v_monthly, -(p_amount - v_monthly), p_reason, p_category,
                                     p_reference_type, p_reference_id);
  return jsonb_build_object('balance', v_balance, 'monthly', v_monthly, 'purchased', p_amount - v_monthly);
end
$$;

create or replace function public.consume_credits(
  org_id uuid,
  amount integer,
  reason text,
  category text default 'usage',
  reference_type text default null,
  reference_id text default null,
  idempotency_key text default null
) returns integer
language plpgsql security definer set search_path = public as $$
declare
  v_scope text := 'consume_credits:' || org_id;
  v_prior jsonb;
  v_result jsonb;
begin
  perform public.require_org_role(org_id, array['owner', 'editor']);
  perform public._lock_credits(org_id);  -- before the key lookup, so a concurrent replay waits
  if idempotency_key is not null then
    select k.result into v_prior from public.idempotency_keys k
     where k.scope = v_scope and k.key = consume_credits.idempotency_key;
    if found then
      return (v_prior ->> 'balance')::integer;
    end if;
  end if;
  if category not in ('usage', 'adjustment') then
    raise exception 'category must be usage or adjustment, not %', category using errcode = '22023';
  end if;
  v_result := public._debit(org_id, amount, reason, category, reference_type, reference_id);
  if idempotency_key is not null then
    insert into public.idempotency_keys (scope, key, result) values (v_scope, idempotency_key, v_result);
  end if;
  return (v_result ->> 'balance')::integer;
end
$$;

create or replace function public.get_credit_balance(org_id uuid) returns jsonb
language plpgsql stable security definer set search_path = public as $$
declare
  c public.credits;
begin
  perform public.require_org_role(org_id, array['owner', 'editor', 'reviewer', 'viewer']);
  select * into c from public.credits where credits.org_id = get_credit_balance.org_id;
  if not found then
    raise exception 'organisation % has no credit account', org_id using errcode = 'PT404';
  end if;
  return jsonb_build_object(
    'org_id', c.org_id,
    'balance', c.balance,
    'monthly_remaining', c.monthly_allocation - c.monthly_credits_used,
    'monthly_allocation', c.monthly_allocation,
    'purchased_balance', c.purchased_balance,
    'monthly_reset_at', c.monthly_reset_at);
end
$$;

create or replace function public.add_purchased_credits(
  org_id uuid, amount integer, reason text default 'credit purchase',
  purchase_id uuid default null, idempotency_key text default null
) returns integer
language plpgsql security definer set search_path = public as $$
declare
  v_scope text := 'add_purchased_credits:' || org_id;
  v_prior jsonb;
  v_balance integer;
begin
  perform public.require_service_role();
  if amount is null or amount <= 0 then
    raise exception 'amount must be a positive number of credits, not %', amount using errcode = '22023';
  end if;
  perform public._lock_credits(org_id);
  if idempotency_key is not null then
    select k.result into v_prior from public.idempotency_keys k
     where k.scope = v_scope and k.key = add_purchased_credits.idempotency_key;
    if found then
      return (v_prior ->> 'balance')::integer;
    end if;
  end if;
  v_balance := public._credit_change(org_id, 0, amount, reason, 'purchase', 'credit_purchase', purchase_id::text);
  if purchase_id is not null then
    update public.credit_purchases set status = 'completed' where id = purchase_id;
  end if;
  if idempotency_key is not null then
    insert into public.idempotency_keys (scope, key, result)
    values (v_scope, idempotency_key, jsonb_build_object('balance', v_balance));
  end if;
  return v_balance;
end
$$;

-- tops the monthly part back up to the tier's allocation for every org whose reset is due
-- (or the one given); safe to run any number of times
create or replace function public.reset_monthly_credits(org_id uuid default null) returns integer
language plpgsql security definer set search_path = public as $$
declare
  c public.credits;
  v_allocation integer;
  v_balance integer;
  v_count integer := 0;
begin
  perform public.require_service_role();
  for c in
    select * from public.credits cr
     where (reset_monthly_credits.org_id is null and cr.monthly_reset_at <= now())
        or cr.org_id = reset_monthly_credits.org_id
     order by cr.org_id
     for update
  loop
    select t.monthly_compute_units into v_allocation
      from public.organizations o join public.tier_limits t on t.tier_name = o.tier
     where o.id = c.org_id;
    v_allocation := coalesce(v_allocation, c.monthly_allocation);
    if c.monthly_credits_used > 0 then
      perform public._credit_change(c.org_id, c.monthly_credits_used, 0, 'monthly reset', 'monthly_reset', null, null);
    end if;
    if v_allocation <> c.monthly_allocation then
      -- the tier changed: the difference is a ledger entry like any other
      update public.credits
         set monthly_allocation = v_allocation,
             balance = balance + (v_allocation - c.monthly_allocation)
       where credits.org_id = c.org_id
      returning balance into v_balance;
      insert into public.credit_ledger
        (org_id, delta, running_balance, reason, category, credit_source)
      values (c.org_id, v_allocation - c.monthly_allocation, v_balance, 'tier allocation changed', 'allocation', 'monthly');
    end if;
    update public.credits
       set last_reset_at = now(),
           monthly_reset_at = date_trunc('month', now()) + interval '1 month'
     where credits.org_id = c.org_id;
    v_count := v_count + 1;
  end loop;
  return v_count;
end
$$;

revoke execute on function public._credit_change, public._lock_credits, public._debit from public, anon, authenticated;
revoke execute on function public.consume_credits, public.get_credit_balance from public, anon;
grant execute on function public.consume_credits, public.get_credit_balance to authenticated, service_role;
revoke execute on function public.add_purchased_credits, public.reset_monthly_credits from public, anon, authenticated;
grant execute on function public.add_purchased_credits, public.reset_monthly_credits to service_role;
