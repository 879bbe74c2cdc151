import type { Queryable } from './db.js';

export interface EventTypeRow {
  org_id: string;
  name: string;
  description: string | null;
  category: string;
  schema: Record<string, unknown> | null;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Event types Hookline publishes about itself; present in every organization, not editable. */
export const builtinEventTypes: Array<{ name: string; description: string }> = [
  {
    name: 'hookline.webhook.disabled',
    description: 'Hookline disabled a webhook (410 Gone, or failing for too long).',
  },
  { name: 'hookline.delivery.exhausted', description: 'A delivery failed its last retry.' },
  { name: 'hookline.webhook.recovered', description: 'A failing webhook succeeded again.' },
  // Also inserted for the organizations of an older database by sql/000090_circuit.sql.
  {
    name: 'hookline.webhook.circuit_opened',
    description: 'A webhook failed too often in a row: its deliveries wait for a probe to succeed.',
  },
  {
    name: 'hookline.webhook.circuit_closed',
    description: "A webhook's circuit closed again: its waiting deliveries go now.",
  },
];

export function isBuiltinEventType(name: string): boolean {
  return name.startsWith('hookline.');
}

/** The catalogs of the three seed designs, loaded by `serve --demo`. */
export const demoCatalog: Record<string, string[]> = {
  ticket: [
    'created',
    'updated',
    'status_changed',
    'priority_changed',
    'assigned',
    'commented',
    'resolved',
    'closed',
  ],
  contact: ['created', 'updated', 'deleted'],
  conversation: ['started', 'ended'],
  automation_rule: ['executed', 'failed'],
  message: ['received', 'sent'],
  sla: ['breached'],
  user: ['created', 'updated'],
  inventory: ['low_stock'],
  purchase_order: ['created', 'approved'],
  employee: ['created'],
  payroll: ['processed', 'failed'],
};

/** The default category: the part of the name before the first dot. */
export function categoryOf(name: string): string {
  return name.split('.')[0];
}

async function insertIfMissing(
  q: Queryable,
  orgId: string,
  name: string,
  description: string,
): Promise<void> {
  await q.query(
    `INSERT INTO event_types (org_id, name, description, category) VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id, name) DO NOTHING`,
    [orgId, name, description, categoryOf(name)],
  );
}

export async function ensureBuiltinEventTypes(q: Queryable, orgId: string): Promise<void> {
  for (const t of builtinEventTypes) await insertIfMissing(q, orgId, t.name, t.description);
}

export async function loadDemoCatalog(q: Queryable, orgId: string): Promise<void> {
  for (const [category, verbs] of Object.entries(demoCatalog)) {
    for (const verb of verbs) {
      await insertIfMissing(
        q,
        orgId,
        `${category}.${verb}`,
        `${category.replace(/_/g, ' ')} ${verb.replace(/_/g, ' ')}`,
      );
    }
  }
}

export async function getEventType(
  q: Queryable,
  orgId: string,
  name: string,
): Promise<EventTypeRow | undefined> {
  const { rows } = await q.query<EventTypeRow>(
    'SELECT * FROM event_types WHERE org_id = $1 AND name = $2',
    [orgId, name],
  );
  return rows[0];
}
