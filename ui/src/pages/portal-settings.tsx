import { useEffect, useState } from 'react';
import { ApiError } from '../api';
import { Button, ErrorBox, Field, Loading, Modal, useAction, useResource } from '../components';
import { tenantsApi, type PortalSettings } from '../tenants-api';

const HEX = /^#[0-9a-fA-F]{6}$/;

/** The organization's branding of the customer portal: title, accent colour, logo, support link. */
export function PortalSettingsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const current = useResource(() => tenantsApi.settings(), [open], { enabled: open });
  const [form, setForm] = useState<Record<keyof PortalSettings, string>>({
    title: '',
    accent_color: '',
    logo_url: '',
    support_url: '',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  useEffect(() => {
    const s = current.data;
    if (s)
      setForm({
        title: s.title ?? '',
        accent_color: s.accent_color ?? '',
        logo_url: s.logo_url ?? '',
        support_url: s.support_url ?? '',
      });
  }, [current.data]);
  const set = (k: keyof PortalSettings) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const [save, saving] = useAction(
    async () => {
      const accent = form.accent_color.trim();
      if (accent && !HEX.test(accent)) {
        setErrors({ accent_color: 'A colour as #rrggbb, e.g. #0a7cff.' });
        return undefined;
      }
      setErrors({});
      const body: Partial<PortalSettings> = {};
      for (const k of Object.keys(form) as (keyof PortalSettings)[])
        body[k] = form[k].trim() || null;
      const saved = await tenantsApi.updateSettings(body);
      onClose();
      return saved;
    },
    {
      success: 'Portal settings saved: open portals show them on their next load.',
      onError: (e) => {
        if (!(e instanceof ApiError) || e.fields.length === 0) return false;
        const out: Record<string, string> = {};
        for (const f of e.fields) out[f.field.replace(/^body\./, '')] = f.message;
        setErrors(out);
        return true;
      },
    },
  );
  return (
    <Modal
      open={open}
      onClose={onClose}
      title="Portal settings"
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={saving} disabled={!current.data} onClick={() => save()}>
            Save
          </Button>
        </>
      }
    >
      {current.error && !current.data ? (
        <ErrorBox error={current.error} onRetry={current.reload} />
      ) : !current.data ? (
        <Loading />
      ) : (
        <>
          <p className="muted small">
            What your customers see in the portal, for every tenant of this organization.
          </p>
          <Field label="Title" htmlFor="ps-title" error={errors.title} hint="e.g. Acme webhooks">
            <input
              id="ps-title"
              value={form.title}
              onChange={(e) => set('title')(e.target.value)}
            />
          </Field>
          <Field
            label="Accent colour"
            htmlFor="ps-accent"
            error={errors.accent_color}
            hint="#rrggbb: buttons, links and the selected tab."
          >
            <div className="secret-row">
              <input
                id="ps-accent"
                className="mono"
                placeholder="#635bff"
                value={form.accent_color}
                onChange={(e) => set('accent_color')(e.target.value)}
              />
              <input
                type="color"
                aria-label="Pick the accent colour"
                value={HEX.test(form.accent_color) ? form.accent_color : '#635bff'}
                onChange={(e) => set('accent_color')(e.target.value)}
              />
            </div>
          </Field>
          <Field label="Logo URL" htmlFor="ps-logo" error={errors.logo_url} hint="https only.">
            <input
              id="ps-logo"
              type="url"
              placeholder="https://…"
              value={form.logo_url}
              onChange={(e) => set('logo_url')(e.target.value)}
            />
          </Field>
          <Field
            label="Support URL"
            htmlFor="ps-support"
            error={errors.support_url}
            hint="Shown as a Help link in the portal."
          >
            <input
              id="ps-support"
              type="url"
              placeholder="https://…"
              value={form.support_url}
              onChange={(e) => set('support_url')(e.target.value)}
            />
          </Field>
        </>
      )}
    </Modal>
  );
}
