-- A new account gets its profile, a personal organisation it owns, and that organisation's
-- credit account with the tier's monthly allocation (recorded in the ledger, so the ledger
-- always sums to the balance).

create or replace function public.handle_new_user() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  v_org uuid;
  v_tier text := coalesce(new.raw_app_meta_data ->> 'tier', 'free');
  v_allocation integer;
  v_name text := coalesce(nullif(new.raw_user_meta_data ->> 'display_name', ''), split_part(new.email, '@', 1), 'me');
begin
  select monthly_compute_units into v_allocation from public.tier_limits where tier_name = v_tier;
  if not found then
    v_tier := 'free';
    select monthly_compute_units into v_allocation from public.tier_limits where tier_name = 'free';
  end if;
  insert into public.profiles (id, email, display_name) values (new.id, new.email, v_name);
  insert into public.organizations (name, tier, is_personal, created_by)
  values (v_name || '''s workspace', v_tier, true, new.id)
  returning id into v_org;
  insert into public.org_members (org_id, user_id, role) values (v_org, new.id, 'owner');
  insert into public.credits (org_id, balance, monthly_allocation) values (v_org, v_allocation, v_allocation);
  if v_allocation > 0 then
    insert into public.credit_ledger (org_id, delta, running_balance, reason, category, credit_source, performed_by)
    values (v_org, v_allocation, v_allocation, 'monthly allocation (' || v_tier || ')', 'allocation', 'monthly', new.id);
  end if;
  return new;
end
$$;

drop trigger if exists on_auth_user_created on auth.users;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function public.handle_new_user();

-- organisations created later (teams) get their credit account the same way
create or replace function public.create_organization(name text, tier text default 'free') returns public.organizations
language plpgsql security definer set search_path = public as $$
declare
  o public.organizations;
  v_allocation integer;
begin
  if auth.uid() is null then
    raise exception 'create_organization needs a signed-in user' using errcode = '42501';
  end if;
  if tier <> 'free' and coalesce(auth.role(), '') <> 'service_role' then
    raise exception 'only the billing service can create a % organisation', tier using errcode = '42501';
  end if;
  select monthly_compute_units into v_allocation from public.tier_limits where tier_name = tier;
  if not found then
    raise exception 'unknown tier %', tier using errcode = '22023';
  end if;
  insert into public.organizations (name, tier, created_by) values (name, tier, auth.uid()) returning * into o;
  insert into public.org_members (org_id, user_id, role) values (o.id, auth.uid(), 'owner');
  insert into public.credits (org_id, balance, monthly_allocation) values (o.id, v_allocation, v_allocation);
  if v_allocation > 0 then
    insert into public.credit_ledger (org_id, delta, running_balance, reason, category, credit_source)
    values (o.id, v_allocation, v_allocation, 'monthly allocation (' || tier || ')', 'allocation', 'monthly');
  end if;
  return o;
end
$$;

revoke execute on function public.handle_new_user from public, anon, authenticated;
revoke execute on function public.create_organization from public, anon;
grant execute on function public.create_organization to authenticated, service_role;
