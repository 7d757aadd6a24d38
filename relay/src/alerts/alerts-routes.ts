/**
 * The alerts admin API, behind the admin guard:
 *
 *   GET    /api/alerts/channels            the channels (secrets as previews)
 *   POST   /api/alerts/channels            add one; a webhook's signing secret is in this answer only
 *   PATCH  /api/alerts/channels/{id}       rename, enable or disable
 *   DELETE /api/alerts/channels/{id}
 *   POST   /api/alerts/channels/{id}/test  send a test alert now and answer how it went
 *   GET    /api/alerts/deliveries          this relay's delivery log, newest first
 */
import type { Hono } from 'hono';
import { RelayError } from '../errors/relay-error.js';
import type { AppDeps, AppEnv } from '../http/context.js';
import { body } from '../http/json-body.js';
import { generateId, generateSecret } from '../store/secrets.js';
import {
  CHANNELS_SETTING,
  type Channel,
  channelInput,
  channelPatch,
  MAX_CHANNELS,
  publicChannel,
} from './channels.js';

export function alertRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const { notifier, store } = deps;
  const save = (channels: Channel[]) => store.setSetting(CHANNELS_SETTING, JSON.stringify(channels));
  const find = async (id: string) => {
    const channels = await notifier.channels();
    const index = channels.findIndex((c) => c.id === id);
    if (index < 0) throw new RelayError('not_found', `no alert channel with id '${id}'`);
    return { channels, index, channel: channels[index]! };
  };

  app.get('/api/alerts/channels', async (c) =>
    c.json({ channels: (await notifier.channels()).map(publicChannel) }),
  );

  app.post('/api/alerts/channels', async (c) => {
    const input = await body(() => c.req.json(), channelInput);
    const channels = await notifier.channels();
    if (channels.length >= MAX_CHANNELS)
      throw new RelayError('invalid_request', `at most ${MAX_CHANNELS} alert channels`);
    const secret = input.kind === 'webhook' ? generateSecret('webhookSecret') : undefined;
    const channel: Channel = {
      ...input,
      id: generateId('ach'),
      enabled: true,
      created_at: new Date().toISOString(),
      ...(secret ? { secret } : {}),
    };
    await save([...channels, channel]);
    return c.json({ channel: publicChannel(channel), ...(secret ? { secret } : {}) }, 201);
  });

  app.patch('/api/alerts/channels/:id', async (c) => {
    const patch = await body(() => c.req.json(), channelPatch);
    const { channels, index, channel } = await find(c.req.param('id'));
    const changed = { ...channel, ...patch };
    channels[index] = changed;
    await save(channels);
    return c.json({ channel: publicChannel(changed) });
  });

  app.delete('/api/alerts/channels/:id', async (c) => {
    const { channels, index } = await find(c.req.param('id'));
    channels.splice(index, 1);
    await save(channels);
    return c.json({ id: c.req.param('id'), deleted: true });
  });

  app.post('/api/alerts/channels/:id/test', async (c) => {
    const { channel } = await find(c.req.param('id'));
    const [delivery] = await notifier.notify(
      {
        id: generateId('alr'),
        kind: 'test',
        rule: 'test',
        severity: 'info',
        title: `Test alert from Arena Relay (${deps.relayId})`,
        text: `This channel ("${channel.name}") receives the relay's alerts.`,
        at: new Date().toISOString(),
        labels: { relay: deps.relayId },
      },
      [channel],
    );
    return c.json({ delivery }, delivery?.state === 'delivered' ? 200 : 502);
  });

  app.get('/api/alerts/deliveries', (c) => c.json({ deliveries: notifier.deliveries() }));
}
