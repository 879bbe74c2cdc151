import { createContext, useContext, type ReactNode } from 'react';
import type { Me } from './api';

export interface Session {
  me: Me;
  /** Admin keys change things; viewer keys only read. */
  canWrite: boolean;
  /** Whether this server offers a route, e.g. `POST /webhooks/:id/replay` (from /openapi.json). */
  has: (route: string) => boolean;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

export function SessionProvider({ value, children }: { value: Session; children: ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
