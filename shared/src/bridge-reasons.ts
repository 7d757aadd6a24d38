/**
 * Why a bridge is not serving, and who a failed request's failure is on. The agent classifies
 * what LMArenaBridge says into these stable codes; the relay shows them (admin API, dashboard,
 * metrics) and routes by them. Codes are part of the contract: add, never rename.
 */
import { z } from 'zod';

/** Stable reason codes for an agent that is not ready (or a stream failure that is bridge-wide). */
export const bridgeReasonCode = z.enum([
  'bridge_down', // LMArenaBridge does not answer (connection refused, reset, probe timed out)
  'bridge_auth_failed', // the bridge's own api_key refuses the agent's upstream key
  'bridge_misconfigured', // the bridge answers but cannot be used (no models, bad session ids)
  'userscript_disconnected', // the browser tab / userscript is not connected to the bridge
  'cloudflare_challenge', // LMArena shows Cloudflare's "Just a moment..." check; the tab must pass it
  'session_expired', // LMArena refuses the session (401, "does not have access to evaluation session")
  'recaptcha_failed', // LMArena's reCAPTCHA validation failed
  'upstream_rate_limited', // LMArena answered 429; retry-after honoured
  'bridge_error', // the bridge cannot serve for a reason it did not name
  'agent_shutting_down', // the agent is draining before exit
  'not_probed', // the agent has not asked its bridge yet
  'userscript_outdated', // a v2.7.6 userscript that only matches lmarena.ai: it never connects since arena.ai
  'recaptcha_mint_failed', // CloudWaddie's bridge cannot get a reCAPTCHA token at all (503)
  'auth_token_expired', // CloudWaddie's bridge: the LMArena auth token it holds expired (401 in-band)
  'arena_forbidden', // arena.ai answered 403 and the bridge did not say why (reCAPTCHA or Cloudflare)
  'browser_not_ready', // WebAI2API: its browser is not initialised yet (BROWSER_NOT_INITIALIZED)
]);
export type BridgeReasonCode = z.infer<typeof bridgeReasonCode>;

/**
 * A reason code read from a peer: a code this side does not know yet (a newer agent) becomes
 * `bridge_error` instead of failing the whole frame.
 */
export const peerReasonCode = bridgeReasonCode.catch('bridge_error');

/** What the bridge's owner does about each reason, in plain words (status page, dashboard). */
export const BRIDGE_REASON_FIXES: Readonly<Record<BridgeReasonCode, string>> = Object.freeze({
  bridge_down:
    'start the bridge (LMArenaBridge, WebAI2API or your model server) and check upstream_url in config.jsonc',
  bridge_auth_failed:
    "set upstream_api_key in config.jsonc to a key the bridge accepts (CloudWaddie's: an sk-lmab-… key from its dashboard)",
  bridge_misconfigured:
    "fix the bridge's own setup: it lists no models, or (v2.7.6) run its model/id updaters so models.json and the session ids are filled in",
  userscript_disconnected:
    'open arena.ai in the browser with the bridge userscript enabled, and keep the tab open',
  cloudflare_challenge: 'open arena.ai in the browser and pass the check ("Verify you are human")',
  session_expired: 'reload arena.ai in the browser and sign in again, then run the id updater if asked',
  recaptcha_failed: 'reload the arena.ai tab and send one message by hand so reCAPTCHA trusts it again',
  upstream_rate_limited: 'LMArena is rate-limiting this browser: wait, the agent retries by itself',
  bridge_error: "look at the bridge's window and the arena.ai tab for an error",
  agent_shutting_down: 'the agent is stopping; start it again if that was not intended',
  not_probed: 'wait a moment: the agent is asking the bridge',
  userscript_outdated:
    "the v2.7.6 userscript only matches lmarena.ai, which now redirects to arena.ai: add `// @match https://arena.ai/*` to the userscript (or use a fork that does), or move to CloudWaddie's LMArenaBridge",
  recaptcha_mint_failed:
    "CloudWaddie's bridge cannot get a reCAPTCHA token: open its browser window, pass any check on arena.ai, and restart the bridge if it persists",
  auth_token_expired:
    "the LMArena auth token in CloudWaddie's bridge expired: sign in on arena.ai and paste a new token in the bridge's dashboard",
  arena_forbidden:
    "arena.ai refused the bridge (403: reCAPTCHA or a Cloudflare check): open the bridge's browser window on arena.ai, pass any check and send one message by hand",
  browser_not_ready:
    "WebAI2API's browser is still starting or was closed: wait for it, or restart WebAI2API and log in",
});

/**
 * Who a failed request's failure is on. `request`: the request itself (too large, invalid) — never
 * counts against the agent. `model`: one model on that bridge (unavailable, timed out) — benches
 * that model on that agent at most. `bridge`: the bridge cannot serve anyone (tab gone, Cloudflare,
 * process down) — benches the agent.
 */
export const failureScope = z.enum(['request', 'model', 'bridge']);
export type FailureScope = z.infer<typeof failureScope>;
