import { describe, expect, it } from 'vitest';
import { RedisConnections } from './redis-connection.js';

describe('RedisConnections.describe', () => {
  it('names the endpoint without its credentials, as the logs would', () => {
    expect(new RedisConnections({ url: 'redis://app:pa55word@db.lan:6380/2' }).describe()).toBe(
      'redis://[redacted]@db.lan:6380/2',
    );
    expect(new RedisConnections({ url: 'rediss://:only-pass@db.lan:6380' }).describe()).toBe(
      'rediss://[redacted]@db.lan:6380',
    );
    expect(new RedisConnections({ url: 'redis://127.0.0.1:6379' }).describe()).toBe('redis://127.0.0.1:6379');
  });
});
