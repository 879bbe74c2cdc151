-- The stable `error` code says what kind of failure; this says which one
-- (e.g. "ENOTFOUND: getaddrinfo ENOTFOUND hooks.example.com"), for the delivery log.
ALTER TABLE delivery_attempts ADD COLUMN error_detail text;
