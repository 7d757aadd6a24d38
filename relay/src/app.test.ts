import { getRouterName } from 'hono/dev';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import type { AppDeps } from './http/context.js';

describe('createApp', () => {
  it('keeps Hono on its RegExpRouter (a static path beside a deeper param path drops it to the trie router)', async () => {
    const app = createApp({ config: { corsOrigins: [] } } as unknown as AppDeps);
    await Promise.resolve()
      .then(() => app.request('/healthz'))
      .catch(() => undefined); // the SmartRouter picks on first match
    expect(getRouterName(app)).toBe('SmartRouter + RegExpRouter');
  });
});
