/**
 * `hookline/sdk`: verify Hookline's webhook requests on the receiving side.
 */
export {
  verify,
  verifySignature,
  WebhookVerificationError,
  DEFAULT_TOLERANCE_SECONDS,
  type VerificationFailure,
  type VerifyOptions,
  type VerifiedRequest,
  type WebhookEvent,
  type WebhookHeaders,
} from './verify.js';
export {
  webhookMiddleware,
  readRawBody,
  verificationFailureBody,
  type MiddlewareOptions,
  type VerifiedIncomingMessage,
} from './http.js';
export {
  fastifyWebhookVerification,
  rawWebhookBody,
  type FastifyWebhookOptions,
} from './fastify.js';
export { verifyRequest, withWebhookVerification } from './next.js';
export {
  createClient,
  HooklineApiError,
  parseRetryAfter,
  type ApiErrorCode,
  type ClientOptions,
  type HooklineClient,
  type ItemOf,
  type ListOperation,
  type OperationName,
  type Operations,
  type RequestArgs,
  type RequestOptions,
  type ResponseOf,
  type Webhook,
  type EventType,
  type HooklineEvent,
  type Delivery,
  type DeliveryWithAttempts,
} from './client.js';
