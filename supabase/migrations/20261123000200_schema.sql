-- The tables of SPEC §4. Every table has updated_at (kept by a trigger) so clients can
-- pull changes by an (updated_at, id) cursor.

create or replace function public.set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create table public.tier_limits (
  tier_name text primary key,
  storage_limit_bytes bigint not null check (storage_limit_bytes >= 0),
  monthly_compute_units integer not null check (monthly_compute_units >= 0),
  seats_limit integer check (seats_limit > 0),
  projects_limit integer check (projects_limit > 0),
  features jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into public.tier_limits (tier_name, storage_limit_bytes, monthly_compute_units, seats_limit, projects_limit, features)
values
  ('free', 1073741824, 100, 1, 3, '{"cloud_reconstruction": false, "review": true}'),
  ('pro', 53687091200, 1000, 5, null, '{"cloud_reconstruction": true, "review": true}'),
  ('studio', 536870912000, 5000, 25, null, '{"cloud_reconstruction": true, "review": true, "sso": true}');

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  display_name text not null default '',
  avatar_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  tier text not null default 'free' references public.tier_limits (tier_name),
  is_personal boolean not null default false,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.org_members (
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'editor', 'reviewer', 'viewer')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
create index org_members_user on public.org_members (user_id);

create table public.design_studio_projects (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  description text not null default '',
  model_url text,
  thumbnail_url text,
  canvas_state jsonb not null default '{}',
  scene_graph jsonb not null default '{}',
  material_overrides jsonb not null default '{}',
  lighting_config jsonb not null default '{}',
  camera_presets jsonb not null default '{}',
  environment_config jsonb not null default '{}',
  status text not null default 'draft' check (status in ('draft', 'in_review', 'approved', 'archived')),
  is_template boolean not null default false,
  template_category text,
  source_project_id uuid references public.design_studio_projects (id) on delete set null,
  version_count integer not null default 0 check (version_count >= 0),
  current_version_id uuid,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index design_studio_projects_org on public.design_studio_projects (org_id);
create index design_studio_projects_cursor on public.design_studio_projects (updated_at, id);

create table public.design_studio_versions (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.design_studio_projects (id) on delete cascade,
  version_number integer not null check (version_number > 0),
  snapshot jsonb not null,
  notes text not null default '',
  idempotency_key text,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, version_number),
  unique (project_id, idempotency_key)
);
create index design_studio_versions_cursor on public.design_studio_versions (updated_at, id);

alter table public.design_studio_projects
  add constraint design_studio_projects_current_version_fk
  foreign key (current_version_id) references public.design_studio_versions (id)
  on delete set null deferrable initially deferred;

create table public.design_studio_assets (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.design_studio_projects (id) on delete cascade,
  asset_type text not null check (asset_type in
    ('mesh', 'pointcloud', 'texture', 'image', 'image_set', 'gcode', 'thumbnail', 'other')),
  name text not null,
  url text,                 -- storage path: <org_id>/<sha256>.<ext> in the `assets` bucket
  thumbnail_url text,
  file_size bigint not null default 0 check (file_size >= 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  metadata jsonb not null default '{}',
  uploaded_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index design_studio_assets_project on public.design_studio_assets (project_id);
create index design_studio_assets_sha on public.design_studio_assets (sha256);
create index design_studio_assets_cursor on public.design_studio_assets (updated_at, id);

create table public.design_studio_annotations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.design_studio_projects (id) on delete cascade,
  version_id uuid references public.design_studio_versions (id) on delete set null,
  author_id uuid not null default auth.uid() references auth.users (id),
  content text not null check (length(content) between 1 and 10000),
  position jsonb,
  camera_state jsonb,
  resolved boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index design_studio_annotations_project on public.design_studio_annotations (project_id);
create index design_studio_annotations_cursor on public.design_studio_annotations (updated_at, id);

create table public.design_studio_annotation_replies (
  id uuid primary key default gen_random_uuid(),
  annotation_id uuid not null references public.design_studio_annotations (id) on delete cascade,
  author_id uuid not null default auth.uid() references auth.users (id),
  content text not null check (length(content) between 1 and 10000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index design_studio_annotation_replies_annotation on public.design_studio_annotation_replies (annotation_id);
create index design_studio_annotation_replies_cursor on public.design_studio_annotation_replies (updated_at, id);

create table public.design_studio_exports (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.design_studio_projects (id) on delete cascade,
  version_id uuid references public.design_studio_versions (id) on delete set null,
  format text not null,
  quality_preset text not null default 'normal',
  output_url text,
  file_size bigint check (file_size >= 0),
  credits_used integer not null default 0 check (credits_used >= 0),
  requested_by uuid default auth.uid() references auth.users (id) on delete set null,
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index design_studio_exports_project on public.design_studio_exports (project_id);

create table public.design_studio_sessions (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.design_studio_projects (id) on delete cascade,
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  role text not null default 'viewer',
  cursor_state jsonb not null default '{}',
  selection_state jsonb not null default '{}',
  is_active boolean not null default true,
  joined_at timestamptz not null default now(),
  last_heartbeat_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index design_studio_sessions_project on public.design_studio_sessions (project_id);

-- balance = monthly remaining + purchased, always; only the credit functions write here
create table public.credits (
  org_id uuid primary key references public.organizations (id) on delete cascade,
  balance integer not null check (balance >= 0),
  monthly_allocation integer not null check (monthly_allocation >= 0),
  monthly_credits_used integer not null default 0,
  monthly_reset_at timestamptz not null default (date_trunc('month', now()) + interval '1 month'),
  purchased_balance integer not null default 0 check (purchased_balance >= 0),
  last_reset_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (monthly_credits_used between 0 and monthly_allocation),
  check (balance = monthly_allocation - monthly_credits_used + purchased_balance)
);

create table public.credit_ledger (
  id bigserial primary key,
  org_id uuid not null references public.organizations (id) on delete cascade,
  delta integer not null check (delta <> 0),
  running_balance integer not null check (running_balance >= 0),
  reason text not null,
  category text not null check (category in
    ('allocation', 'monthly_reset', 'purchase', 'usage', 'hold', 'refund', 'adjustment')),
  reference_type text,
  reference_id text,
  credit_source text not null check (credit_source in ('monthly', 'purchased')),
  performed_by uuid default auth.uid(),
  metadata jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index credit_ledger_org on public.credit_ledger (org_id, id);
create index credit_ledger_reference on public.credit_ledger (reference_type, reference_id);

create table public.credit_purchases (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  stripe_session_id text unique,
  pack_id text not null,
  compute_units integer not null check (compute_units > 0),
  amount_cents integer not null check (amount_cents >= 0),
  currency text not null default 'usd',
  status text not null default 'pending' check (status in ('pending', 'completed', 'failed', 'refunded')),
  purchased_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index credit_purchases_org on public.credit_purchases (org_id);

create table public.model_processing_jobs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  project_id uuid references public.design_studio_projects (id) on delete set null,
  job_type text not null,
  source_url text,
  source_format text,
  target_formats text[] not null default '{}',
  parameters jsonb not null default '{}',
  status text not null default 'queued'
    check (status in ('queued', 'processing', 'completed', 'failed', 'cancelled')),
  progress real not null default 0 check (progress between 0 and 1),
  outputs jsonb,
  thumbnail_url text,
  error_message text,
  credits_estimated integer not null default 0 check (credits_estimated >= 0),
  credits_used integer check (credits_used >= 0),
  worker_id text,
  priority integer not null default 0,
  queue_name text not null default 'default',
  lease_expires_at timestamptz,
  heartbeat_at timestamptz,
  available_at timestamptz not null default now(),
  started_at timestamptz,
  completed_at timestamptz,
  retry_count integer not null default 0 check (retry_count >= 0),
  max_retries integer not null default 3 check (max_retries >= 0),
  idempotency_key text,
  submitted_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (org_id, idempotency_key)
);
create index model_processing_jobs_claim
  on public.model_processing_jobs (queue_name, priority desc, created_at)
  where status in ('queued', 'processing');
create index model_processing_jobs_org on public.model_processing_jobs (org_id);

create table public.print_jobs (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  design_project_id uuid references public.design_studio_projects (id) on delete set null,
  status text not null default 'sliced'
    check (status in ('sliced', 'queued', 'printing', 'completed', 'failed', 'cancelled')),
  material text,
  color text,
  infill_percent real check (infill_percent between 0 and 100),
  support_material boolean not null default false,
  layer_height real check (layer_height > 0),
  print_orientation jsonb,
  gcode_url text,
  estimated_time_minutes real,
  actual_time_minutes real,
  estimated_material_grams real,
  actual_material_grams real,
  printer_id text,
  credits_used integer not null default 0 check (credits_used >= 0),
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index print_jobs_org on public.print_jobs (org_id);

create table public.supported_formats (
  extension text primary key check (extension ~ '^[a-z0-9]+$'),
  mime_type text not null,
  category text not null,
  display_name text not null,
  can_import boolean not null default true,
  can_export boolean not null default false,
  requires_processing boolean not null default false,
  max_file_size_mb integer not null check (max_file_size_mb > 0),
  processing_credit_cost integer not null default 0 check (processing_credit_cost >= 0),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into public.supported_formats
  (extension, mime_type, category, display_name, can_import, can_export, requires_processing, max_file_size_mb, processing_credit_cost)
values
  ('glb', 'model/gltf-binary', 'mesh', 'glTF binary', true, true, false, 500, 0),
  ('gltf', 'model/gltf+json', 'mesh', 'glTF', true, true, false, 500, 0),
  ('bin', 'application/octet-stream', 'mesh', 'glTF buffer', true, true, false, 500, 0),
  ('obj', 'model/obj', 'mesh', 'Wavefront OBJ', true, true, false, 500, 0),
  ('mtl', 'model/mtl', 'material', 'Wavefront material', true, true, false, 10, 0),
  ('stl', 'model/stl', 'mesh', 'STL', true, true, false, 500, 0),
  ('ply', 'application/ply', 'mesh', 'PLY', true, true, false, 500, 0),
  ('off', 'model/off', 'mesh', 'OFF', true, false, false, 500, 0),
  ('3mf', 'model/3mf', 'mesh', '3D Manufacturing Format', true, true, false, 500, 0),
  ('gcode', 'text/x-gcode', 'print', 'G-code', false, true, false, 200, 0),
  ('png', 'image/png', 'image', 'PNG image', true, true, false, 50, 0),
  ('jpg', 'image/jpeg', 'image', 'JPEG image', true, false, false, 50, 0),
  ('jpeg', 'image/jpeg', 'image', 'JPEG image', true, false, false, 50, 0),
  ('zip', 'application/zip', 'image_set', 'Photo set', true, false, true, 2000, 10);

-- the desktop outbox's mutations, applied once each (keyed by the client's mutation id)
create table public.applied_mutations (
  id uuid primary key,
  user_id uuid not null default auth.uid(),
  entity text not null,
  op text not null,
  result jsonb,
  created_at timestamptz not null default now()
);

-- results of idempotent calls (credit changes), so a replay returns the first answer
create table public.idempotency_keys (
  scope text not null,
  key text not null,
  result jsonb not null,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);

-- every table with an updated_at column keeps it current
do $$
declare
  t text;
begin
  for t in
    select c.table_name from information_schema.columns c
     join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'updated_at' and tb.table_type = 'BASE TABLE'
  loop
    execute format('create trigger set_updated_at before update on public.%I
                    for each row execute function public.set_updated_at()', t);
  end loop;
end
$$;

-- A project's updated_at is the time of its last *content* change: numbering a version
-- (version_count, current_version_id) does not count, or every save would look to other
-- clients like an edit of the working scene they must not overwrite.
create or replace function public.set_project_updated_at() returns trigger
language plpgsql as $$
begin
  if (to_jsonb(new) - 'version_count' - 'current_version_id' - 'updated_at')
     is distinct from (to_jsonb(old) - 'version_count' - 'current_version_id' - 'updated_at') then
    new.updated_at := now();
  end if;
  return new;
end
$$;
drop trigger set_updated_at on public.design_studio_projects;
create trigger set_updated_at before update on public.design_studio_projects
  for each row execute function public.set_project_updated_at();

-- security_invoker: the view shows only what the caller may see of `credits`
create view public.org_credit_summary with (security_invoker = true) as
  select org_id,
         monthly_allocation - monthly_credits_used as monthly_remaining,
         purchased_balance,
         balance as total_available,
         monthly_allocation,
         monthly_reset_at
  from public.credits;
