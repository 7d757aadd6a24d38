/**
 * LMArenaBridge v2.7.6 speaks Chinese to its owner. Its known phrases are put into English for
 * owners, operators and consumers, with the bridge's own words kept beside (they are what a search
 * or the bridge's issue tracker knows). Error path only: never on a chunk of an answer.
 */

/** Phrase → English, longest first so a sentence wins over its parts. */
const PHRASES: ReadonlyArray<[string, string]> = [
  [
    '上传失败：附件大小超过了 LMArena 服务器的限制 (通常是 5MB左右)。请尝试压缩文件或上传更小的文件。',
    'upload failed: the attachment is larger than LMArena allows (usually about 5 MB); compress it or send a smaller file.',
  ],
  [
    '响应被终止，可能是上下文超限或者模型内部审查（大概率）的原因',
    "the answer was cut off, most likely by the model's moderation (or the context limit)",
  ],
  [
    "未提供 API Key。请在 Authorization 头部中以 'Bearer YOUR_KEY' 格式提供。",
    "no API key given; send it as 'Authorization: Bearer YOUR_KEY'.",
  ],
  [
    '油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。',
    'the userscript is not connected; make sure the LMArena page is open with the script active.',
  ],
  [
    '正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。',
    'waiting for the browser to refresh and pass the human check (Cloudflare); retry in a few seconds.',
  ],
  [
    '检测到人机验证，已发送刷新指令，请稍后重试。',
    'a human check (Cloudflare) was detected and the browser told to refresh; retry shortly.',
  ],
  ["模型列表为空或 'models.json' 未找到。", "the model list is empty or 'models.json' is missing."],
  ['提供的 API Key 不正确。', 'the API key given is wrong.'],
  ['油猴脚本客户端未连接', 'the userscript is not connected'],
  ['没有配置独立的会话ID', 'has no session ids of its own'],
  ['会话ID或消息ID无效', 'invalid session id or message id'],
  ['网络响应不正常。', 'LMArena answered with an error. '],
  ['无效的 JSON 请求体', 'invalid JSON request body'],
  ['附件大小超过了', 'the attachment is larger than'],
  ['人机验证', 'human check (Cloudflare)'],
  ['状态:', 'Status:'],
  ['内容:', 'Content:'],
];

const CJK = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/;

/** Whether `text` holds Chinese (CJK ideographs or punctuation): the bridge spoke its owner's language. */
export function hasChinese(text: string): boolean {
  return CJK.test(text);
}

/**
 * `text` with its known Chinese phrases in English and the original beside:
 * `the userscript is not connected … (bridge's words: 油猴脚本客户端未连接…)`. Text without
 * Chinese comes back as it is.
 */
export function inEnglish(text: string): string {
  if (!hasChinese(text)) return text;
  let english = text;
  for (const [phrase, words] of PHRASES) english = english.split(phrase).join(words);
  if (english === text) return text;
  return `${english.trim()} (bridge's words: ${text.trim()})`;
}
