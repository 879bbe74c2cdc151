// The one place that turns an attempt's stable error code (docs/api.md, "Deliveries") into words:
// every screen that shows an attempt error (delivery rows, the drawer, tests, the dashboard, a
// webhook's banner) goes through explainAttempt, so one code never reads two ways.

/** A failed attempt in words: what happened, and what the receiver's owner can do about it. */
export interface Explained {
  /** The raw code (`connection_refused`) or `HTTP 500`, for those who search logs by it. */
  code: string;
  /** One plain sentence: what happened. */
  sentence: string;
  /** What to check or change. */
  hint: string;
}

const byCode: Record<string, { sentence: string; hint: string }> = {
  timeout: {
    sentence: 'The endpoint did not answer within the timeout.',
    hint: 'Answer with 2xx first and do slow work afterwards, or raise the webhook’s timeout.',
  },
  connection_refused: {
    sentence: 'Nothing accepted the connection at that address.',
    hint: 'Check that the receiving server is running and listening on the URL’s host and port.',
  },
  connection_reset: {
    sentence: 'The endpoint closed the connection before answering.',
    hint: 'Look at the receiver’s logs: it may have crashed or a proxy cut the request off.',
  },
  dns_failed: {
    sentence: 'The URL’s host name could not be resolved.',
    hint: 'Check the host name for typos and that its DNS record exists.',
  },
  tls_error: {
    sentence: 'The secure (TLS) connection could not be set up.',
    hint: 'Check the endpoint’s certificate: expired, self-signed or for another host name.',
  },
  redirect_not_followed: {
    sentence: 'The endpoint answered with a redirect, which Hookline does not follow.',
    hint: 'Use the final URL (after the redirect) as the webhook’s URL.',
  },
  blocked_destination: {
    sentence: 'The URL points to an address Hookline may not send to (a private network).',
    hint: 'Use a public address, or allow private destinations in the server’s settings.',
  },
  invalid_response: {
    sentence: 'The endpoint’s answer was not valid HTTP.',
    hint: 'Check that the URL points to an HTTP server, not another kind of service.',
  },
  transformation_failed: {
    sentence: 'The webhook’s transformation failed, so nothing was sent.',
    hint: 'Fix the script (its message is below), or try it with Simulate in the webhook’s form.',
  },
  transformation_cancelled: {
    sentence: 'The webhook’s transformation cancelled this delivery: nothing was sent.',
    hint: 'The script returned {cancel: true}; its reason is below.',
  },
  internal_error: {
    sentence: 'Hookline could not make the attempt.',
    hint: 'Look at the Hookline server’s log; it says why (for example a missing secret key).',
  },
};

function httpSentence(status: number): { sentence: string; hint: string } {
  if (status === 410)
    return {
      sentence: 'The endpoint answered 410 Gone: it no longer wants these events.',
      hint: 'Hookline disables a webhook on 410. Fix the receiver, then re-enable the webhook.',
    };
  if (status === 429)
    return {
      sentence: 'The endpoint answered 429: it is receiving too many requests.',
      hint: 'Set a rate limit on the webhook, or raise the receiver’s limit.',
    };
  if (status === 401 || status === 403)
    return {
      sentence: `The endpoint refused the request (${status}).`,
      hint: 'Check that the receiver accepts Hookline’s signature and any custom auth header.',
    };
  if (status === 404)
    return {
      sentence: 'The endpoint answered 404: nothing is at that path.',
      hint: 'Check the URL’s path.',
    };
  if (status >= 500)
    return {
      sentence: `The endpoint failed with a server error (${status}).`,
      hint: 'The receiver broke while handling the event: its logs say why. Hookline retries.',
    };
  return {
    sentence: `The endpoint answered ${status}, not a 2xx success.`,
    hint: 'Receivers must answer 2xx to accept an event; look at the response body below.',
  };
}

/**
 * Explains an attempt's outcome, or undefined when it succeeded (or has no outcome yet).
 * `http_error` says nothing the status does not, so the status speaks for it.
 */
export function explainAttempt(
  error: string | null | undefined,
  status: number | null | undefined,
): Explained | undefined {
  const ok = status != null && status >= 200 && status < 300;
  if (!error && (status == null || ok)) return undefined;
  if ((!error || error === 'http_error') && status != null)
    return { code: `HTTP ${status}`, ...httpSentence(status) };
  const known = error ? byCode[error] : undefined;
  return {
    code: error ?? 'unknown',
    sentence: known?.sentence ?? `The attempt failed (${error}).`,
    hint: known?.hint ?? 'Open the delivery to see the attempt’s request and response.',
  };
}
