-- Tenants: the organization's own customers (docs/tenants.md). A tenant is named by the
-- application's id, so the application never stores a Hookline id.
CREATE TABLE tenants (
  org_id      text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  id          text NOT NULL,
  name        text NOT NULL DEFAULT '',
  metadata    jsonb NOT NULL DEFAULT '{}',
  is_active   boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
-- GET /tenants?q=: a prefix of the name (the id's prefix walks the primary key).
CREATE INDEX tenants_org_name_idx ON tenants (org_id, lower(name) text_pattern_ops);

-- null: the organization's own webhook. Fixed at creation.
ALTER TABLE webhooks ADD COLUMN tenant_id text;
-- Set when its tenant was deleted: hidden from the API at once, removed by the worker in batches.
ALTER TABLE webhooks ADD COLUMN deleted_at timestamptz;
-- Fan-out reads the active webhooks of one (organization, tenant) on every publish; '' is the
-- organization's own (no tenant id is empty), so one equality walks this index for both.
CREATE INDEX webhooks_active_tenant_idx ON webhooks (org_id, (coalesce(tenant_id, ''))) WHERE is_active;
-- GET /webhooks?tenant_id= and the per-tenant webhook limit.
CREATE INDEX webhooks_tenant_idx ON webhooks (org_id, tenant_id, id DESC) WHERE tenant_id IS NOT NULL;
-- The worker's purge of deleted tenants' webhooks.
CREATE INDEX webhooks_deleted_idx ON webhooks (deleted_at) WHERE deleted_at IS NOT NULL;
-- The tenant-scoped fan-out replaces the organization-wide one.
DROP INDEX webhooks_active_idx;

ALTER TABLE events ADD COLUMN tenant_id text;
CREATE INDEX events_org_tenant_idx ON events (org_id, tenant_id, id DESC) WHERE tenant_id IS NOT NULL;

-- The tenant an audit entry is about (its webhook's, its session's), for GET /audit-log?tenant_id=.
ALTER TABLE audit_log ADD COLUMN tenant_id text;
CREATE INDEX audit_log_org_tenant_idx ON audit_log (org_id, tenant_id, id DESC) WHERE tenant_id IS NOT NULL;

-- Portal sessions: short-lived hlp_ tokens scoped to one tenant; only the hash is stored.
CREATE TABLE portal_sessions (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  tenant_id   text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  read_only   boolean NOT NULL DEFAULT false,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text
);
CREATE INDEX portal_sessions_tenant_idx ON portal_sessions (org_id, tenant_id, id DESC);

-- Branding of the portal, one row per organization (absent: defaults).
CREATE TABLE portal_settings (
  org_id        text PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
  title         text,
  accent_color  text,
  logo_url      text,
  support_url   text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
