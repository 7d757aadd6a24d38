/**
 * Docker HEALTHCHECK of both images, plain Node (no curl in the slim image):
 *   node docker/healthcheck.mjs relay   GET /healthz on the relay's PORT (HTTPS when TLS_CERT_FILE is set)
 *   node docker/healthcheck.mjs agent   GET /health on AGENT_STATUS_PORT; healthy once connected to a relay
 * Exits 0 when healthy, 1 otherwise, within 4 s.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const TIMEOUT_MS = 4_000;
const env = process.env;

/** The probe for `target`: its URL, request options and the check of the JSON answer. */
function probeFor(target) {
  if (target === 'relay') {
    const tls = Boolean(env.TLS_CERT_FILE);
    return {
      url: `${tls ? 'https' : 'http'}://127.0.0.1:${env.PORT || 8787}/healthz`,
      // The container asks itself over loopback and sends no secret; the certificate names the
      // public host, not 127.0.0.1, so it is not verified here (agents do verify it).
      options: tls ? { rejectUnauthorized: false } : {},
      healthy: (body) => body.status === 'ok',
    };
  }
  if (target === 'agent') {
    return {
      url: `http://127.0.0.1:${env.AGENT_STATUS_PORT || 5103}/health`,
      options: {},
      healthy: (body) => body.status === 'ok' && body.connected === true,
    };
  }
  return undefined;
}

function fail(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

const probe = probeFor(process.argv[2]);
if (!probe) fail('usage: node healthcheck.mjs relay|agent');
const request = probe.url.startsWith('https:') ? httpsRequest : httpRequest;
const req = request(probe.url, { ...probe.options, timeout: TIMEOUT_MS }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => {
    text += chunk;
  });
  res.on('end', () => {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      fail(`${probe.url} answered ${res.statusCode} with no JSON`);
    }
    if (res.statusCode !== 200 || !probe.healthy(body))
      fail(`${probe.url} answered ${res.statusCode} ${text}`);
    process.exit(0);
  });
});
req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
req.on('error', (error) => fail(`${probe.url}: ${error.message}`));
req.end();
