/**
 * What a failed request means to the bridge's owner, in plain words, in English and Chinese. A
 * failure that names why the bridge cannot serve takes that reason's fix (BRIDGE_REASON_WORDS in
 * shared/); one that does not (a model's trouble, a request the bridge refused, a timeout) is told
 * by its stream error code here.
 */
import {
  BRIDGE_REASON_WORDS,
  type BridgeReasonCode,
  bridgeReasonCode,
  type OwnerWords,
  type StreamErrorCode,
} from '@arena-relay/shared';

/** Plain words for a failure that carries no bridge reason, by its stream error code. */
const STREAM_FAILURE_WORDS: Readonly<Record<StreamErrorCode, OwnerWords>> = Object.freeze({
  busy: {
    en: 'the agent was already serving its max_concurrency: nothing to fix unless it happens all the time',
    zh: '代理程序已达到 max_concurrency 上限：偶尔出现无需处理，经常出现时可提高该值',
  },
  upstream_unavailable: {
    en: "the bridge could not serve: look at the bridge's window and the arena.ai tab",
    zh: '桥接程序无法提供服务：请查看桥接程序的窗口和 arena.ai 标签页',
  },
  upstream_error: {
    en: 'LMArena or the bridge failed on this model (for example the model is unavailable); other models still serve. If it keeps happening, try the model by hand on arena.ai',
    zh: 'LMArena 或桥接程序在这个模型上出错（例如模型暂不可用）；其他模型不受影响。如果一直出现，请在 arena.ai 上手动试一下这个模型',
  },
  upstream_rejected: {
    en: 'the bridge refused this request itself (too large or invalid): nothing to fix on your side',
    zh: '桥接程序拒绝了这个请求本身（太大或格式无效）：您这边无需处理',
  },
  upstream_timeout: {
    en: 'the bridge or the model did not answer in time: check that the bridge and the arena.ai tab still respond',
    zh: '桥接程序或模型没有及时回答：请检查桥接程序和 arena.ai 标签页是否仍有响应',
  },
  cancelled: {
    en: 'the request was cancelled before it finished: nothing to fix',
    zh: '请求在完成前被取消：无需处理',
  },
  protocol_error: {
    en: "the relay sent something the agent cannot accept: tell the relay's operator",
    zh: '中继服务器发送了代理程序无法接受的内容：请告知中继服务器的运营者',
  },
  internal: {
    en: "the agent failed by itself: look at its log and tell the relay's operator",
    zh: '代理程序自身出错：请查看它的日志并告知中继服务器的运营者',
  },
});

/** How failures are grouped for the owner: the bridge's reason when there is one, else the stream code. */
export type FailureKey = BridgeReasonCode | StreamErrorCode;

const isReason = (key: FailureKey): key is BridgeReasonCode =>
  (bridgeReasonCode.options as readonly string[]).includes(key);

/** The plain words for a failure grouped under `key`. */
export function failureWords(key: FailureKey): OwnerWords {
  return isReason(key) ? BRIDGE_REASON_WORDS[key] : STREAM_FAILURE_WORDS[key];
}
