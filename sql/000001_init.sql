-- Hookline schema, version 1. Every later change is a new numbered file.
-- IDs are text with a type prefix and a time-sortable body, so "ORDER BY id DESC"
-- is "newest first" and doubles as the pagination cursor.

CREATE TABLE organizations (
  id          text PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            text PRIMARY KEY,
  org_id        text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name          text NOT NULL DEFAULT '',
  role          text NOT NULL CHECK (role IN ('admin', 'publisher', 'viewer')),
  key_hash      text NOT NULL UNIQUE,   -- sha256 hex of the whole key; the key itself is never stored
  key_prefix    text NOT NULL,          -- first characters, to recognise a key in lists
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id, id DESC);

CREATE TABLE event_types (
  org_id       text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text,
  category     text NOT NULL,
  schema       jsonb,
  archived_at  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, name)
);

CREATE TABLE webhooks (
  id                     text PRIMARY KEY,
  org_id                 text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name                   text NOT NULL,
  url                    text NOT NULL,
  description            text,
  events                 text[] NOT NULL,
  custom_headers         jsonb NOT NULL DEFAULT '{}',
  is_active              boolean NOT NULL DEFAULT true,
  timeout_seconds        integer NOT NULL DEFAULT 30,
  retry_attempts         integer NOT NULL DEFAULT 5,
  retry_delay_seconds    integer NOT NULL DEFAULT 60,
  rate_limit_per_second  integer,
  ordering               text NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'fifo')),
  -- The current signing secret (possibly encrypted at rest: "enc:v1:…"), and the
  -- secrets of earlier rotations still inside their grace period: [{secret, expires_at}].
  secret                 text NOT NULL,
  previous_secrets       jsonb NOT NULL DEFAULT '[]',
  failure_count          integer NOT NULL DEFAULT 0,
  first_failure_at       timestamptz,  -- start of the current run of failures (auto-disable clock)
  last_triggered_at      timestamptz,
  last_success_at        timestamptz,
  disabled_reason        text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  created_by             text,
  updated_by             text
);
CREATE INDEX webhooks_org_idx ON webhooks (org_id, id DESC);
-- Fan-out reads the active webhooks of one organization on every publish.
CREATE INDEX webhooks_active_idx ON webhooks (org_id) WHERE is_active;

CREATE TABLE events (
  id               text PRIMARY KEY,
  org_id           text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  event_type       text NOT NULL,
  -- json, not jsonb: keeps the publisher's exact text, so the body a receiver gets
  -- (and signs over) is built by concatenation without a parse/serialise round trip.
  payload          json NOT NULL,
  idempotency_key  text,
  request_hash     text,   -- hash of the publish body, to tell a retry from a conflicting reuse
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_org_idx ON events (org_id, id DESC);
CREATE INDEX events_org_type_idx ON events (org_id, event_type, id DESC);
CREATE UNIQUE INDEX events_idempotency_idx ON events (org_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX events_created_idx ON events (created_at);

CREATE SEQUENCE deliveries_seq;

CREATE TABLE deliveries (
  id                text PRIMARY KEY,
  org_id            text NOT NULL,
  webhook_id        text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id          text NOT NULL REFERENCES events(id) ON DELETE CASCADE,
  event_type        text NOT NULL,
  -- pending → sending → succeeded | pending (retry) | failed; or cancelled / skipped.
  status            text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'succeeded', 'failed', 'cancelled', 'skipped')),
  attempts          integer NOT NULL DEFAULT 0,
  -- Extra attempts granted by manual retry/replay, so the worker's budget
  -- (1 + retry_attempts + manual_attempts) stays an invariant that can be checked.
  manual_attempts   integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  lease_expires_at  timestamptz,
  worker_id         text,
  is_test           boolean NOT NULL DEFAULT false,
  last_status_code  integer,
  last_error        text,
  last_attempt_at   timestamptz,
  completed_at      timestamptz,
  seq               bigint NOT NULL DEFAULT nextval('deliveries_seq'),  -- event order, for fifo webhooks
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The queue: the claim query walks this small partial index only.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
-- The lease reaper.
CREATE INDEX deliveries_leased_idx ON deliveries (lease_expires_at) WHERE status = 'sending';
-- FIFO: the head of each webhook's line.
CREATE INDEX deliveries_fifo_idx ON deliveries (webhook_id, seq) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_org_idx ON deliveries (org_id, id DESC);
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id DESC);
CREATE INDEX deliveries_event_idx ON deliveries (event_id);
CREATE INDEX deliveries_org_created_idx ON deliveries (org_id, created_at);

CREATE TABLE delivery_attempts (
  id                text PRIMARY KEY,
  org_id            text NOT NULL,
  delivery_id       text NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
  webhook_id        text NOT NULL,
  attempt           integer NOT NULL,
  started_at        timestamptz NOT NULL,
  duration_ms       integer NOT NULL,
  request_headers   jsonb NOT NULL DEFAULT '{}',
  response_status   integer,
  response_headers  jsonb,
  response_body     text,
  error             text
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, attempt);
CREATE INDEX delivery_attempts_webhook_started_idx ON delivery_attempts (webhook_id, started_at);
CREATE INDEX delivery_attempts_org_started_idx ON delivery_attempts (org_id, started_at);
CREATE INDEX delivery_attempts_started_idx ON delivery_attempts (started_at);

CREATE TABLE audit_log (
  id           text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  key_id       text,
  action       text NOT NULL,
  target_type  text NOT NULL,
  target_id    text,
  changes      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org_idx ON audit_log (org_id, id DESC);
