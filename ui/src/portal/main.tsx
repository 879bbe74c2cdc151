import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { setBasePath } from '../router';
import { applyTheme } from './theme';
import { PortalApp } from './app';
import '../styles.css';

// The customer portal: the admin UI's pages, mounted at /portal, for one tenant (docs/portal.md).
setBasePath('/portal');
applyTheme(new URLSearchParams(window.location.search));

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PortalApp />
  </StrictMode>,
);
