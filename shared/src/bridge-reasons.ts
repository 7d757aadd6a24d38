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

/** A text for the bridge's owner in English and in Chinese (v2.7.6's owners read Chinese). */
export type OwnerWords = { readonly en: string; readonly zh: string };

/**
 * What the bridge's owner does about each reason, in plain words, in English and Chinese side by
 * side so neither can fall behind the other (status page, dashboard, notifications).
 */
export const BRIDGE_REASON_WORDS: Readonly<Record<BridgeReasonCode, OwnerWords>> = Object.freeze({
  bridge_down: {
    en: 'start the bridge (LMArenaBridge, WebAI2API or your model server) and check upstream_url in config.jsonc',
    zh: '启动桥接程序（LMArenaBridge、WebAI2API 或您的模型服务器），并检查 config.jsonc 中的 upstream_url',
  },
  bridge_auth_failed: {
    en: "set upstream_api_key in config.jsonc to a key the bridge accepts (CloudWaddie's: an sk-lmab-… key from its dashboard)",
    zh: '在 config.jsonc 中把 upstream_api_key 设为桥接程序接受的密钥（CloudWaddie 版：其管理面板中的 sk-lmab-… 密钥）',
  },
  bridge_misconfigured: {
    en: "fix the bridge's own setup: it lists no models, or (v2.7.6) run its model/id updaters so models.json and the session ids are filled in",
    zh: '修正桥接程序自身的配置：它没有列出任何模型；或者（v2.7.6）运行它的模型/ID 更新脚本，把 models.json 和会话 ID 填写完整',
  },
  userscript_disconnected: {
    en: 'open arena.ai in the browser with the bridge userscript enabled, and keep the tab open',
    zh: '在浏览器中打开 arena.ai 并启用桥接油猴脚本，保持该标签页打开',
  },
  cloudflare_challenge: {
    en: 'open arena.ai in the browser and pass the check ("Verify you are human")',
    zh: '在浏览器中打开 arena.ai 并通过人机验证（“确认您是真人”）',
  },
  session_expired: {
    en: 'reload arena.ai in the browser and sign in again, then run the id updater if asked',
    zh: '在浏览器中刷新 arena.ai 并重新登录；如有提示，再运行 ID 更新脚本',
  },
  recaptcha_failed: {
    en: 'reload the arena.ai tab and send one message by hand so reCAPTCHA trusts it again',
    zh: '刷新 arena.ai 标签页并手动发送一条消息，让 reCAPTCHA 重新信任它',
  },
  upstream_rate_limited: {
    en: 'LMArena is rate-limiting this browser: wait, the agent retries by itself',
    zh: 'LMArena 正在限制这个浏览器的请求频率：请稍候，代理程序会自动重试',
  },
  bridge_error: {
    en: "look at the bridge's window and the arena.ai tab for an error",
    zh: '查看桥接程序的窗口和 arena.ai 标签页中的错误信息',
  },
  agent_shutting_down: {
    en: 'the agent is stopping; start it again if that was not intended',
    zh: '代理程序正在停止；如果这不是您的本意，请重新启动它',
  },
  not_probed: {
    en: 'wait a moment: the agent is asking the bridge',
    zh: '请稍候：代理程序正在询问桥接程序',
  },
  userscript_outdated: {
    en: "the v2.7.6 userscript only matches lmarena.ai, which now redirects to arena.ai: add `// @match https://arena.ai/*` to the userscript (or use a fork that does), or move to CloudWaddie's LMArenaBridge",
    zh: 'v2.7.6 的油猴脚本只匹配 lmarena.ai，而它现在会跳转到 arena.ai：在脚本中加入 `// @match https://arena.ai/*`（或使用已加入这一行的分支版本），或改用 CloudWaddie 的 LMArenaBridge',
  },
  recaptcha_mint_failed: {
    en: "CloudWaddie's bridge cannot get a reCAPTCHA token: open its browser window, pass any check on arena.ai, and restart the bridge if it persists",
    zh: 'CloudWaddie 的桥接程序拿不到 reCAPTCHA 令牌：打开它的浏览器窗口，在 arena.ai 上通过所有验证；若仍然如此，请重启桥接程序',
  },
  auth_token_expired: {
    en: "the LMArena auth token in CloudWaddie's bridge expired: sign in on arena.ai and paste a new token in the bridge's dashboard",
    zh: 'CloudWaddie 桥接程序中的 LMArena 认证令牌已过期：在 arena.ai 登录，并把新令牌粘贴到桥接程序的管理面板',
  },
  arena_forbidden: {
    en: "arena.ai refused the bridge (403: reCAPTCHA or a Cloudflare check): open the bridge's browser window on arena.ai, pass any check and send one message by hand",
    zh: 'arena.ai 拒绝了桥接程序（403：reCAPTCHA 或 Cloudflare 验证）：在桥接程序的浏览器窗口中打开 arena.ai，通过所有验证并手动发送一条消息',
  },
  browser_not_ready: {
    en: "WebAI2API's browser is still starting or was closed: wait for it, or restart WebAI2API and log in",
    zh: 'WebAI2API 的浏览器仍在启动或已被关闭：请等待，或重启 WebAI2API 并登录',
  },
});

/** The English fix of each reason (BRIDGE_REASON_WORDS' `en`), where one language is wanted. */
export const BRIDGE_REASON_FIXES: Readonly<Record<BridgeReasonCode, string>> = Object.freeze(
  Object.fromEntries(bridgeReasonCode.options.map((code) => [code, BRIDGE_REASON_WORDS[code].en])) as Record<
    BridgeReasonCode,
    string
  >,
);

/**
 * Who a failed request's failure is on. `request`: the request itself (too large, invalid) — never
 * counts against the agent. `model`: one model on that bridge (unavailable, timed out) — benches
 * that model on that agent at most. `bridge`: the bridge cannot serve anyone (tab gone, Cloudflare,
 * process down) — benches the agent.
 */
export const failureScope = z.enum(['request', 'model', 'bridge']);
export type FailureScope = z.infer<typeof failureScope>;
