import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { precompress } from './precompress.js';

// Built by scripts/prepare.mjs (npm start / npm test) into ui/dist, which `hookline serve` serves at /.
// `npx vite --config ui/vite.config.ts` runs a dev server that proxies the API to a local hookline.
export default defineConfig(({ command }) => ({
  // A build is always a production build, even when run from a test runner that set NODE_ENV=test
  // (else React's development build, twice the size, would be bundled).
  ...(command === 'build'
    ? { define: { 'process.env.NODE_ENV': JSON.stringify('production') } }
    : {}),
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Two pages over one set of chunks: the admin UI, and the customer portal (docs/portal.md).
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('index.html', import.meta.url)),
        portal: fileURLToPath(new URL('portal.html', import.meta.url)),
      },
    },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/openapi.json': 'http://127.0.0.1:8080',
    },
  },
}));
