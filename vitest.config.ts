import { defineConfig } from 'vitest/config';

// The suite runs once per store: every test under test/ (but the pure tests
// and the browser tests) runs against PGlite and against PostgreSQL. Pure
// tests need no database and run once: everything under test/core, and any
// file named *.pure.test.ts beside the tests of its part (test/sdk, test/worker).
const storeTests = ['test/**/*.test.ts'];
const pureTests = ['test/core/**/*.test.ts', 'test/**/*.pure.test.ts'];
const notPerStore = ['test/core/**', 'test/**/*.pure.test.ts', 'test/e2e/**', 'node_modules/**'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 3,
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'core', include: pureTests },
      },
      {
        extends: true,
        test: {
          name: 'pglite',
          include: storeTests,
          exclude: notPerStore,
          env: { HOOKLINE_TEST_STORE: 'pglite' },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: storeTests,
          exclude: notPerStore,
          env: { HOOKLINE_TEST_STORE: 'postgres' },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          env: { HOOKLINE_TEST_STORE: 'pglite' },
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
