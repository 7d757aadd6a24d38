/** The notifier's retry schedule and delivery log, under fake timers (no socket crosses here). */
import type { Transporter } from 'nodemailer';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from './alert.js';
import { CHANNELS_SETTING, type Channel } from './channels.js';
import { Notifier } from './notifier.js';

const channel: Channel = {
  id: 'ach_1',
  kind: 'email',
  name: 'on-call',
  to: ['a@example.com'],
  enabled: true,
  created_at: '2026-12-06T00:00:00.000Z',
};
const alert: Alert = {
  id: 'alr_1',
  kind: 'incident',
  rule: 'bridge_not_serving',
  severity: 'warning',
  title: 't',
  text: 'x',
  at: '2026-12-06T00:00:00.000Z',
  labels: {},
};

function notifierWith(sendMail: () => Promise<unknown>, channels: unknown = [channel]) {
  return new Notifier({
    store: { getSetting: async (name) => (name === CHANNELS_SETTING ? JSON.stringify(channels) : undefined) },
    logger: pino({ level: 'silent' }),
    context: {
      telegramApi: '',
      mail: () => ({ sendMail }) as unknown as Transporter,
      mailFrom: 'r@example.com',
      timeoutMs: 1000,
    },
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Notifier', () => {
  it('retries after 2 s, 10 s and 60 s, then gives up and says so', async () => {
    vi.useFakeTimers();
    const sendMail = vi.fn(async () => {
      throw new Error('451 try later');
    });
    const notifier = notifierWith(sendMail);
    const [first] = await notifier.notify(alert);
    expect(first).toMatchObject({ state: 'pending', attempts: 1, error: '451 try later' });
    for (const [wait, attempts] of [
      [2000, 2],
      [10_000, 3],
      [60_000, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(sendMail).toHaveBeenCalledTimes(attempts - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(sendMail).toHaveBeenCalledTimes(attempts);
    }
    expect(notifier.deliveries()[0]).toMatchObject({ state: 'failed', attempts: 4 });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sendMail).toHaveBeenCalledTimes(4);
  });

  it('close() cancels pending retries; disabled channels get nothing; a planted list is read as hostile', async () => {
    vi.useFakeTimers();
    const sendMail = vi.fn(async () => {
      throw new Error('down');
    });
    const notifier = notifierWith(sendMail, [
      channel,
      { ...channel, id: 'ach_2', enabled: false },
      { id: 'ach_3', kind: 'webhook', url: 'file:///etc/passwd', name: 'x', enabled: true, created_at: '' },
      'garbage',
    ]);
    await notifier.notify(alert);
    expect(sendMail).toHaveBeenCalledTimes(1);
    notifier.close();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sendMail).toHaveBeenCalledTimes(1);
    expect(notifier.deliveries().map((d) => d.channel_id)).toEqual(['ach_1']);
  });

  it('keeps a bounded log, newest first', async () => {
    const notifier = notifierWith(async () => ({}));
    for (let i = 0; i < 250; i++) await notifier.notify({ ...alert, id: `alr_${i}` });
    const log = notifier.deliveries();
    expect(log).toHaveLength(200);
    expect(log[0]?.alert_id).toBe('alr_249');
    expect(log.every((d) => d.state === 'delivered')).toBe(true);
  });
});
