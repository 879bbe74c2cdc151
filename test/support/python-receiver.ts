/**
 * A receiver written the way the FastAPI design's receivers are: a Python http.server
 * that checks `x-webhook-signature` with that design's verify_webhook_signature
 * (hex HMAC-SHA256 of the raw body, keyed by `secret.encode()`, compared with
 * hmac.compare_digest). It answers 200 when the signature holds and 401 otherwise,
 * and prints one line per request, so a test can tell what it decided.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { until } from './receiver.js';

const SCRIPT = String.raw`
import hashlib, hmac, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = os.environ["WEBHOOK_SECRET"]

def verify_webhook_signature(payload: bytes, signature: str, secret: str) -> bool:
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        header = self.headers.get("x-webhook-signature", "")
        given = header[len("sha256="):] if header.startswith("sha256=") else header
        ok = verify_webhook_signature(body, given, SECRET)
        print("verified" if ok else "rejected", flush=True)
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"bad signature")

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
`;

export interface PythonReceiver {
  url: string;
  /** `verified` or `rejected`, one per request, in order. */
  verdicts: string[];
  close(): Promise<void>;
}

/** Starts the Python receiver with `secret`; resolves once it listens. */
export async function startPythonReceiver(secret: string): Promise<PythonReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-py-'));
  const script = join(dir, 'receiver.py');
  writeFileSync(script, SCRIPT);
  const child: ChildProcess = spawn('python3', [script], {
    env: { ...process.env, WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const verdicts: string[] = [];
  let port: number | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (port === undefined) port = Number(line);
    else verdicts.push(line.trim());
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  await until(
    () => port !== undefined || exited,
    15_000,
    () => 'the Python receiver to listen',
  );
  if (port === undefined) throw new Error('the Python receiver did not start');
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    verdicts,
    async close() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill();
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
