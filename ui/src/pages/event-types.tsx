import { useState, type FormEvent } from 'react';
import { all, api, ApiError, type EventType } from '../api';
import {
  Badge,
  Button,
  Check,
  Code,
  Confirm,
  Empty,
  Field,
  Modal,
  PageHeader,
  errorText,
  prettyJson,
  useAction,
  useResource,
  useToast,
} from '../components';
import { listOf, ListStates, Table } from '../lists';
import { navigate, useTitle } from '../router';
import { useSession } from '../session';

export function EventTypes() {
  useTitle('Event types');
  const session = useSession();
  const { has } = session;
  // The customer portal reads the catalog and changes nothing in it.
  const canWrite = session.canWrite && has('POST /event-types');
  const canPublish = canWrite && has('POST /events');
  const [showArchived, setShowArchived] = useState(false);
  const list = useResource(
    () =>
      all((cursor) => api.listEventTypes({ limit: 500, cursor, include_archived: showArchived })),
    [showArchived],
  );
  const [editing, setEditing] = useState<EventType | 'new' | null>(null);
  const [viewing, setViewing] = useState<EventType | null>(null);
  const [archiving, setArchiving] = useState<EventType | null>(null);
  const [archive, archiveBusy] = useAction(
    async (t: EventType) => {
      await api.archiveEventType(t.name);
      setArchiving(null);
      list.reload();
    },
    { success: 'Event type archived: it can no longer be published.' },
  );
  const [restore] = useAction(
    async (t: EventType) => {
      await api.updateEventType(t.name, { archived: false });
      list.reload();
    },
    { success: 'Event type restored.' },
  );

  const groups = new Map<string, EventType[]>();
  for (const t of list.data ?? []) groups.set(t.category, [...(groups.get(t.category) ?? []), t]);
  const sorted = [...groups].sort(([a], [b]) =>
    a === 'hookline' ? 1 : b === 'hookline' ? -1 : a.localeCompare(b),
  );

  return (
    <>
      <PageHeader
        title="Event types"
        subtitle="The catalog of events your application publishes. Webhooks subscribe to them; a schema makes Hookline check payloads."
        actions={
          <>
            <Check checked={showArchived} onChange={setShowArchived}>
              Show archived
            </Check>
            {canWrite && (
              <Button variant="primary" onClick={() => setEditing('new')}>
                + New event type
              </Button>
            )}
          </>
        }
      />
      <ListStates
        list={listOf(
          list,
          (list.data ?? []).filter((t) => t.category !== 'hookline'),
        )}
        empty={
          <Empty
            title="No event types yet"
            action={
              canWrite ? (
                <Button variant="primary" onClick={() => setEditing('new')}>
                  Create an event type
                </Button>
              ) : undefined
            }
          >
            Name each kind of event your application publishes, like <code>ticket.created</code>.
            Publishing an unknown type is refused.
          </Empty>
        }
      />
      {sorted.map(([cat, types]) => (
        <section className="card card-flush" key={cat}>
          <div className="card-head card-pad">
            <h2>
              {cat === 'hookline' ? 'Hookline operational events' : cat}{' '}
              <span className="muted small">{types.length}</span>
            </h2>
          </div>
          <Table
            className="table-fixed"
            cols={['col-name', 'col-desc', 'col-schema', 'col-actions']}
          >
            {types.map((t) => (
              <tr key={t.name} className={t.archived ? 'archived' : undefined}>
                <td className="mono">
                  {t.name} {t.archived && <Badge>archived</Badge>}
                </td>
                <td className="hide-sm muted">{t.description ?? ''}</td>
                <td className="hide-sm">{t.schema ? <Badge tone="blue">schema</Badge> : null}</td>
                <td className="row-actions">
                  {t.schema && (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => setViewing(t)}
                      aria-label={`Schema of ${t.name}`}
                    >
                      Schema
                    </Button>
                  )}
                  {canPublish && t.category !== 'hookline' && !t.archived && (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => navigate(`/events?publish=${encodeURIComponent(t.name)}`)}
                      aria-label={`Publish ${t.name}`}
                    >
                      Publish
                    </Button>
                  )}
                  {canWrite && t.category !== 'hookline' && !t.archived && (
                    <>
                      <Button
                        size="sm"
                        variant="ghost"
                        onClick={() => setEditing(t)}
                        aria-label={`Edit ${t.name}`}
                      >
                        Edit
                      </Button>
                      <Button
                        size="sm"
                        variant="ghost"
                        onClick={() => setArchiving(t)}
                        aria-label={`Archive ${t.name}`}
                      >
                        Archive
                      </Button>
                    </>
                  )}
                  {canWrite && t.archived && (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => restore(t)}
                      aria-label={`Restore ${t.name}`}
                    >
                      Restore
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        </section>
      ))}
      {editing && (
        <EventTypeForm
          existing={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            list.reload();
          }}
        />
      )}
      <Modal
        open={viewing !== null}
        onClose={() => setViewing(null)}
        title={<span className="mono">{viewing?.name}</span>}
        wide
      >
        <Code>{prettyJson(viewing?.schema ?? null)}</Code>
      </Modal>
      <Confirm
        open={archiving !== null}
        title={`Archive ${archiving?.name}?`}
        confirmLabel="Archive"
        danger
        busy={archiveBusy}
        onConfirm={() => archiving && archive(archiving)}
        onClose={() => setArchiving(null)}
      >
        <p>
          Publishing this type is refused from now on. Past events keep it, and webhooks subscribed
          to it stay as they are. You can restore it later.
        </p>
      </Confirm>
    </>
  );
}

function EventTypeForm({
  existing,
  onClose,
  onSaved,
}: {
  existing?: EventType;
  onClose: () => void;
  onSaved: () => void;
}) {
  const toast = useToast();
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const [category, setCategory] = useState(existing?.category ?? '');
  const [schema, setSchema] = useState(
    existing?.schema ? JSON.stringify(existing.schema, null, 2) : '',
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const errs: Record<string, string> = {};
    if (!existing && !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(name))
      errs.name = 'Lowercase words joined by dots, e.g. ticket.created.';
    if (category && !/^[a-z0-9_]+$/.test(category))
      errs.category = 'Lowercase letters, digits and _.';
    let parsedSchema: unknown = null;
    if (schema.trim()) {
      try {
        parsedSchema = JSON.parse(schema);
        if (
          typeof parsedSchema !== 'object' ||
          parsedSchema === null ||
          Array.isArray(parsedSchema)
        )
          errs.schema = 'A JSON Schema is a JSON object.';
      } catch (err) {
        errs.schema = `Not valid JSON: ${(err as Error).message}`;
      }
    }
    setErrors(errs);
    setProblem(undefined);
    if (Object.keys(errs).length) return;
    setBusy(true);
    try {
      if (existing) {
        await api.updateEventType(existing.name, {
          description: description.trim() || null,
          ...(category && category !== existing.category ? { category } : {}),
          schema: parsedSchema,
        });
        toast('success', `${existing.name} saved.`);
      } else {
        await api.createEventType({
          name,
          ...(description.trim() ? { description: description.trim() } : {}),
          ...(category ? { category } : {}),
          ...(parsedSchema ? { schema: parsedSchema } : {}),
        });
        toast('success', `${name} created.`);
      }
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        setErrors(Object.fromEntries(err.fields.map((f) => [f.field.split('.')[0], f.message])));
      }
      setProblem(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal
      open
      onClose={onClose}
      title={existing ? `Edit ${existing.name}` : 'New event type'}
      wide
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" type="submit" form="event-type-form" busy={busy}>
            {existing ? 'Save' : 'Create'}
          </Button>
        </>
      }
    >
      <form id="event-type-form" onSubmit={submit} noValidate>
        {problem && (
          <div className="alert alert-error" role="alert">
            {problem}
          </div>
        )}
        {!existing && (
          <Field
            label="Name"
            htmlFor="et-name"
            error={errors.name}
            hint="e.g. ticket.created; the part before the first dot is the default category."
          >
            <input
              id="et-name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              spellCheck={false}
              aria-invalid={errors.name ? true : undefined}
              autoFocus
            />
          </Field>
        )}
        <Field label="Description" htmlFor="et-description" error={errors.description}>
          <input
            id="et-description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </Field>
        <Field
          label="Category"
          htmlFor="et-category"
          error={errors.category}
          hint="Empty: the part of the name before the first dot."
        >
          <input
            id="et-category"
            value={category}
            onChange={(e) => setCategory(e.target.value)}
            spellCheck={false}
            placeholder={name.split('.')[0] || 'ticket'}
          />
        </Field>
        <Field
          label="JSON Schema (optional)"
          htmlFor="et-schema"
          error={errors.schema}
          hint="Published payloads of this type must satisfy it, or the publish gets a 422."
        >
          <textarea
            id="et-schema"
            className="mono"
            rows={8}
            spellCheck={false}
            value={schema}
            onChange={(e) => setSchema(e.target.value)}
            placeholder={'{\n  "type": "object",\n  "required": ["id"]\n}'}
          />
        </Field>
      </form>
    </Modal>
  );
}
