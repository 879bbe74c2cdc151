import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setBasePath } from '../router';
import { PortalApp } from './app';
import '../styles.css';

// The customer portal: the admin UI's pages, mounted at /portal, for one tenant (docs/portal.md).
setBasePath('/portal');
// Light or dark was set before the first paint by ui/public/theme.js (`?theme=`, docs/portal.md).

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
