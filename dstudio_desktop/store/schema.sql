-- The local workspace. Rows mirror the backend's tables; `outbox` queues every
-- change for sync and is written in the same transaction as the change itself.
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    org_id TEXT,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'draft',
    is_template INTEGER NOT NULL DEFAULT 0,
    template_category TEXT,
    source_project_id TEXT,
    thumbnail_asset_id TEXT,
    scene_graph TEXT NOT NULL,
    material_overrides TEXT NOT NULL,
    lighting_config TEXT NOT NULL,
    environment_config TEXT NOT NULL,
    camera_presets TEXT NOT NULL,
    canvas_state TEXT NOT NULL,
    version_count INTEGER NOT NULL DEFAULT 0,
    current_version_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS projects_name ON projects(name);

CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    version_number INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    created_by TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, version_number)
);

CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    asset_type TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX IF NOT EXISTS assets_project ON assets(project_id);
CREATE INDEX IF NOT EXISTS assets_sha ON assets(sha256);

CREATE TABLE IF NOT EXISTS annotations (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    version_id TEXT,
    parent_id TEXT,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS annotations_project ON annotations(project_id);

CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- schema 2: print jobs (SPEC §4 print_jobs), kept locally until sync
CREATE TABLE IF NOT EXISTS print_jobs (
    id TEXT PRIMARY KEY,
    design_project_id TEXT REFERENCES projects(id),
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS print_jobs_project ON print_jobs(design_project_id);

-- schema 3: the local profile (stands in for the signed-in user until sign-in exists)
-- and the user's role on each project (owner unless told otherwise)
CREATE TABLE IF NOT EXISTS profile (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_roles (
    project_id TEXT PRIMARY KEY REFERENCES projects(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'reviewer', 'viewer'))
);

-- schema 4: sync bookkeeping. Server version numbers (a version saved offline has none until
-- it is pushed), the server's updated_at last seen per row (the base for conflict checks),
-- refused mutations with the server's reason, and cursors and other sync state.
CREATE TABLE IF NOT EXISTS version_numbers (
    version_id TEXT PRIMARY KEY REFERENCES versions(id),
    server_number INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS remote_seen (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE TABLE IF NOT EXISTS sync_rejections (
    mutation_id TEXT PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
