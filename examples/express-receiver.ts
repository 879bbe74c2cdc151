/**
 * A webhook receiver in Express 5 that verifies Hookline's signatures.
 *
 *   HOOKLINE_WEBHOOK_SECRET=whsec_… PORT=3000 node --import tsx examples/express-receiver.ts
 *
 * In your own app, import from 'hookline/sdk' instead of '../sdk/index.js'.
 */
import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';
import {
  webhookMiddleware,
  type VerifiedIncomingMessage,
  type WebhookEvent,
} from '../sdk/index.js';

export function createReceiverApp(
  secret: string,
  onEvent: (event: WebhookEvent) => void | Promise<void>,
): Express {
  const app = express();
  app.post(
    '/hooks',
    // The signature covers the exact bytes: keep the raw body (no express.json() on this route).
    express.raw({ type: 'application/json', limit: '1mb' }),
    webhookMiddleware(secret),
    async (req, res) => {
      const event = (req as VerifiedIncomingMessage).webhook!;
      // webhook-id is the same on every retry: a real app de-duplicates on it before acting.
      await onEvent(event);
      res.status(204).end();
    },
  );
  // Other routes keep their usual JSON parser.
  app.use(express.json());
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const secret = process.env.HOOKLINE_WEBHOOK_SECRET;
  if (!secret) throw new Error('set HOOKLINE_WEBHOOK_SECRET to the webhook’s whsec_… secret');
  const port = Number(process.env.PORT ?? 3000);
  createReceiverApp(secret, (event) => console.log(`${event.type} ${event.id}`, event.data)).listen(
    port,
    () => console.log(`listening on http://127.0.0.1:${port}/hooks`),
  );
}
