/**
 * Writing values into the status page's HTML: every one escaped and stripped of control and bidi
 * characters, since the bridge's and the relay's words (and the model names consumers ask for)
 * end up in it.
 */
import { type OwnerWords, stripControls } from '@arena-relay/shared';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and quoted attribute values, with no control or bidi character. */
export function escapeHtml(text: string): string {
  return stripControls(text).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/** One `<tr>` of a name and its value (a dash for none). */
export const row = (name: string, value: string | number | null): string =>
  `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value === null ? '—' : String(value))}</td></tr>`;

/**
 * Plain words in the owner's language: Chinese first with the English below when the bridge wrote
 * Chinese, else the English alone.
 */
export function ownerWords(lang: keyof OwnerWords, words: OwnerWords): string {
  if (lang === 'en') return escapeHtml(words.en);
  return `<span lang="zh-CN">${escapeHtml(words.zh)}</span><br><small>${escapeHtml(words.en)}</small>`;
}
