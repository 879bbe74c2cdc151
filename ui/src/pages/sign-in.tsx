import { useState, type FormEvent } from 'react';
import { api, ApiError, type Me } from '../api';
import { Button, Field, errorText } from '../components';
import { useTitle } from '../router';

/** Sign in with an API key; the key lives in sessionStorage until sign-out or the tab closes. */
export function SignIn({
  onSignedIn,
  notice,
}: {
  onSignedIn: (key: string, me: Me) => Promise<void>;
  notice?: string;
}) {
  useTitle('Sign in');
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError('Paste an API key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const me = await api.me(k);
      if (me.role === 'publisher') {
        setError(
          'This is a publisher key: it can only publish events. Sign in with an admin or viewer key.',
        );
        return;
      }
      await onSignedIn(k, me);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? `${err.message} Check the key and try again.`
          : errorText(err),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={submit} noValidate>
        <div className="brand signin-brand">
          <span className="brand-mark" aria-hidden />
          Hookline
        </div>
        <h1>Sign in</h1>
        <p className="muted">
          Use an API key of your organization. Admin keys can change everything; viewer keys see it
          read-only.
        </p>
        {notice && (
          <div className="alert alert-info" role="status">
            {notice}
          </div>
        )}
        <Field
          label="API key"
          htmlFor="api-key"
          error={error}
          hint={
            <>
              Hookline printed an admin key on its first start (or use{' '}
              <code>HOOKLINE_ADMIN_KEY</code>); make more with <code>hookline keys create</code>.
            </>
          }
        >
          <input
            id="api-key"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="hk_…"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'api-key-error' : undefined}
            autoFocus
          />
        </Field>
        <Button type="submit" variant="primary" busy={busy} className="btn-block">
          Sign in
        </Button>
        <p className="fine">
          The key is kept in this tab only (session storage) and is cleared when you sign out.
        </p>
      </form>
    </div>
  );
}
