/**
 * The typed API client. Its code lives in src/client/ because the `hookline`
 * CLI (compiled from src/ alone) uses it too; this is its SDK entry point.
 */
export * from '../src/client/client.js';
