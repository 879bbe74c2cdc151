-- What a receiver may ask of the sender beyond the HMAC secret (docs/endpoint-security.md):
-- the signature scheme, the ed25519 signing key (sealed like `secret`) and those of earlier
-- rotations, the mutual-TLS client certificate and private CA (key sealed), and the
-- Authorization a request carries (basic, bearer, OAuth2 client credentials; secrets sealed).
-- One jsonb column: the worker reads it with the claim, and nothing filters on its parts.
ALTER TABLE webhooks ADD COLUMN endpoint_security jsonb NOT NULL DEFAULT '{}'::jsonb;
