import { useCallback, useEffect, useState } from 'react';
import { ApiError, loadCapabilities, setApiKey, setUnauthorizedHandler } from '../api';
import { ErrorBox, Loading, ToastProvider } from '../components';
import { SessionProvider, type Session } from '../session';
import { tenantsApi, type PortalInfo } from '../tenants-api';
import { dropToken, issuer, rememberIssuer, takeToken } from './token';
import { applyBranding } from './theme';
import { portalSession } from './session';
import { PortalShell } from './shell';

type State =
  | { kind: 'loading' }
  | { kind: 'expired'; hadToken: boolean }
  | { kind: 'error'; error: unknown }
  | { kind: 'ready'; portal: PortalInfo; session: Session };

/** The portal: opens the session of the link's token, then the tenant's pages. */
export function PortalApp() {
  const [state, setState] = useState<State>({ kind: 'loading' });

  const expire = useCallback(() => {
    dropToken();
    setApiKey(null);
    setState({ kind: 'expired', hadToken: true });
  }, []);

  const open = useCallback(() => {
    const token = takeToken();
    if (!token) {
      setState({ kind: 'expired', hadToken: false });
      return;
    }
    setState({ kind: 'loading' });
    Promise.all([tenantsApi.portalMe(token), loadCapabilities()]).then(
      ([me, caps]) => {
        // An API key in the fragment is not a portal link: the portal never runs as the org.
        if (!me.portal) return expire();
        setApiKey(token);
        const org = me.org_name || me.portal.settings.title;
        if (org) rememberIssuer(org);
        applyBranding(me.portal.settings, me.org_name || 'Webhooks');
        setState({ kind: 'ready', portal: me.portal, session: portalSession(me, me.portal, caps) });
      },
      (error: unknown) => {
        // Only a 401 means the link is over; a 429 or a server that is down may pass.
        if (error instanceof ApiError && error.status === 401) expire();
        else setState({ kind: 'error', error });
      },
    );
  }, [expire]);

  useEffect(() => {
    // A token that expires or is revoked while the page is open ends the session on the next call.
    setUnauthorizedHandler(expire);
    open();
  }, [expire, open]);

  let content;
  if (state.kind === 'loading') content = <Loading />;
  else if (state.kind === 'expired') content = <Expired hadToken={state.hadToken} />;
  else if (state.kind === 'error')
    content = (
      <div className="portal-expired">
        <h1>Could not open your webhooks</h1>
        <ErrorBox error={state.error} onRetry={open} />
      </div>
    );
  else
    content = (
      <SessionProvider value={state.session}>
        <PortalShell portal={state.portal} />
      </SessionProvider>
    );
  return <ToastProvider>{content}</ToastProvider>;
}

/** Not a sign-in form: the customer cannot sign in here, only get a new link where they came from. */
function Expired({ hadToken }: { hadToken: boolean }) {
  const org = issuer();
  return (
    <div className="portal-expired" role="main">
      <h1>{hadToken ? 'This link has expired' : 'This page needs a link'}</h1>
      <p>
        {hadToken
          ? 'Links to this page work for a short time only. '
          : 'Open it from the application that manages your webhooks. '}
        Ask {org || 'the application that sent you here'} for a new one.
      </p>
    </div>
  );
}
