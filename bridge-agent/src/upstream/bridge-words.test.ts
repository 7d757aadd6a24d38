import { describe, expect, it } from 'vitest';
import { inEnglish } from './bridge-words.js';

describe('the bridge’s Chinese, in English', () => {
  it('puts known phrases in English and keeps the original beside', () => {
    expect(inEnglish('油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。')).toBe(
      "the userscript is not connected; make sure the LMArena page is open with the script active. (bridge's words: 油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。)",
    );
    expect(inEnglish('网络响应不正常。状态: 403. 内容: {"error":"recaptcha validation failed"}')).toBe(
      'LMArena answered with an error. Status: 403. Content: {"error":"recaptcha validation failed"} (bridge\'s words: 网络响应不正常。状态: 403. 内容: {"error":"recaptcha validation failed"})',
    );
  });

  it('leaves English and unknown Chinese as they are', () => {
    expect(inEnglish('Model is currently unavailable')).toBe('Model is currently unavailable');
    expect(inEnglish('浏览器未连接')).toBe('浏览器未连接');
  });

  it('stays linear on a hostile message', () => {
    const started = performance.now();
    const huge = inEnglish('人机验证'.repeat(50_000));
    expect(huge.startsWith('human check (Cloudflare)')).toBe(true);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
