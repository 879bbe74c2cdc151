import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ErrorResponses } from '../schemas.js';

const Me = Type.Object({
  org_id: Type.String(),
  org_name: Type.String(),
  key_id: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('publisher'), Type.Literal('viewer')]),
});

/** Who the caller is: lets a client (the admin UI) learn its key's role without trying actions. */
export async function meRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/me',
    {
      config: { access: 'catalog' },
      schema: {
        tags: ['API keys'],
        summary: 'The organization and role of the calling key',
        response: { 200: Me, ...ErrorResponses },
      },
    },
    async (request) => {
      const { orgId, keyId, role } = request.auth;
      const { rows } = await app.deps.db.query<{ name: string }>(
        'SELECT name FROM organizations WHERE id = $1',
        [orgId],
      );
      return { org_id: orgId, org_name: rows[0]?.name ?? '', key_id: keyId, role };
    },
  );
}
