import { describe, expect, it } from 'vitest';
import { booleanSetting, ConfigError, LOG_LEVELS, logLevelSetting, settingsFrame } from './index.js';

describe('shared config pieces', () => {
  it('reads the eight boolean words in any case and padding, and leaves anything else to fail', () => {
    const words = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'];
    const parsed = words.map((word) => booleanSetting.parse(` ${word.toUpperCase()} `));
    expect(parsed).toEqual([true, false, true, false, true, false, true, false]);
    expect(booleanSetting.parse(true)).toBe(true);
    for (const bad of ['', 'y', 'enabled', '2', 1, null]) {
      const result = booleanSetting.safeParse(bad);
      expect(result.success, String(bad)).toBe(false);
      expect(result.error?.issues[0]?.message).toBe('must be true or false');
    }
  });

  it('has one list of log levels for both programs and the settings frame', () => {
    expect(logLevelSetting.options).toEqual([...LOG_LEVELS]);
    expect(logLevelSetting.safeParse('loud').error?.issues[0]?.message).toBe(
      'must be one of fatal, error, warn, info, debug, trace, silent',
    );
    for (const logLevel of LOG_LEVELS)
      expect(settingsFrame.safeParse({ type: 'settings', logLevel }).success).toBe(true);
  });

  it('names the program and lists every problem in ConfigError', () => {
    const error = new ConfigError('relay', ['PORT: too big', 'HOST: empty']);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual(['PORT: too big', 'HOST: empty']);
    expect(error.message).toBe('invalid relay configuration:\n  - PORT: too big\n  - HOST: empty');
  });
});
