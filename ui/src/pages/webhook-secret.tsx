import { useState } from 'react';
import { api, type Webhook } from '../api';
import { Button, CopyButton, Field, Modal, useAction } from '../components';
import { useSession } from '../session';

// The signing secret of a webhook's Settings tab: reveal, copy, rotate with a grace period.

/** The webhook's signing secret, hidden until asked for, and its rotation. */
export function SecretCard({ w }: { w: Webhook }) {
  const { has } = useSession();
  const [secret, setSecret] = useState<string>();
  const [rotateOpen, setRotateOpen] = useState(false);
  const [grace, setGrace] = useState('86400');
  const [reveal, revealing] = useAction(async () => {
    const r = await api.webhookSecret(w.id);
    setSecret(r.secret);
  });
  const [rotate, rotating] = useAction(
    async () => {
      const r = await api.rotateSecret(w.id, Number(grace));
      setSecret(r.secret);
      setRotateOpen(false);
    },
    {
      success:
        'Secret rotated: the new one is shown. Both sign requests until the grace period ends.',
    },
  );
  return (
    <section className="card">
      <div className="card-head">
        <h2>Signing secret</h2>
      </div>
      <p className="muted small">
        Receivers verify the webhook-signature header with it (Standard Webhooks).
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="secret">
          {secret ?? 'whsec_••••••••••••••••••••••••'}
        </code>
        {secret ? (
          <>
            <CopyButton text={secret} />
            <Button size="sm" variant="ghost" onClick={() => setSecret(undefined)}>
              Hide
            </Button>
          </>
        ) : (
          <Button size="sm" busy={revealing} onClick={() => reveal()}>
            Reveal
          </Button>
        )}
        {has('POST /webhooks/:id/rotate-secret') && (
          <Button size="sm" onClick={() => setRotateOpen(true)}>
            Rotate…
          </Button>
        )}
      </div>
      <Modal
        open={rotateOpen}
        onClose={() => setRotateOpen(false)}
        title="Rotate the signing secret"
        footer={
          <>
            <Button onClick={() => setRotateOpen(false)}>Cancel</Button>
            <Button variant="primary" busy={rotating} onClick={() => rotate()}>
              Rotate secret
            </Button>
          </>
        }
      >
        <p>
          A new secret is generated. During the grace period every request carries signatures with
          both secrets, so receivers can switch without missing one.
        </p>
        <Field label="Keep the old secret valid for" htmlFor="grace">
          <select id="grace" value={grace} onChange={(e) => setGrace(e.target.value)}>
            <option value="0">No grace: stop using it now</option>
            <option value="3600">1 hour</option>
            <option value="86400">24 hours (default)</option>
            <option value="604800">7 days</option>
          </select>
        </Field>
      </Modal>
    </section>
  );
}
