import { describe, expect, it } from 'vitest';
import { AgentSettings } from './pushed-settings.js';
import { configSchema } from './schema.js';

const config = configSchema.parse({ relayUrls: 'http://relay.example', token: 'art_x' });

describe('AgentSettings: a pushed log level', () => {
  it('cannot hide warnings: error, fatal and silent become warn; chattier levels apply', () => {
    const settings = new AgentSettings(config, new Set());
    for (const level of ['silent', 'fatal', 'error'] as const) {
      settings.apply({ type: 'settings', logLevel: level });
      expect(settings.logLevel, level).toBe('warn');
    }
    for (const level of ['warn', 'info', 'debug', 'trace'] as const) {
      settings.apply({ type: 'settings', logLevel: level });
      expect(settings.logLevel, level).toBe(level);
    }
  });

  it("the owner's own level still wins, silent included", () => {
    const settings = new AgentSettings({ ...config, logLevel: 'silent' }, new Set(['logLevel']));
    settings.apply({ type: 'settings', logLevel: 'debug' });
    expect(settings.logLevel).toBe('silent');
  });
});
