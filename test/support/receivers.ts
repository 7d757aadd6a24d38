/**
 * Real receivers for what the relay sends out: an HTTP server that records every request (alert
 * webhooks, Slack/Discord/Telegram stand-ins) and an SMTP server (smtp-server) that records every
 * mail. Both on port 0, closed after the test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { track } from './cleanup.js';

export type Received = { path: string; headers: IncomingMessage['headers']; body: string };

/**
 * Records every request and answers with `answer(n, res)` (n counts from 1; default 200 "ok").
 * `host` `::` listens on IPv6 and IPv4 alike; `connections()` counts every TCP connection made.
 */
export async function httpReceiver(
  answer: (n: number, res: ServerResponse) => void = (_, res) => res.end('ok'),
  host = '127.0.0.1',
) {
  let connections = 0;
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      answer(received.length, res);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  track({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, received, server, connections: () => connections };
}

export type Mail = { from: string; to: string[]; data: string; user: string | undefined };

/** An SMTP server without TLS that takes AUTH only as `user`/`password`; `smtpUrl` carries them. */
export async function smtpReceiver(user = 'alerts', password = 'p@ss word') {
  const mails: Mail[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('bad credentials'));
    },
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        data += chunk;
      });
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  track({ close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) });
  const { port } = smtp.server.address() as AddressInfo;
  return { mails, smtpUrl: `smtp://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}` };
}

/** A mail's Subject, unfolded and with RFC 2047 encoded words (Q or B, UTF-8) decoded. */
export function subjectOf(mail: Mail): string {
  const head = mail.data.split(/\r?\n\r?\n/)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const raw = /^Subject: (.*)$/im.exec(unfolded)?.[1] ?? '';
  return raw
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?(.*?)\?=/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) =>
                String.fromCharCode(Number.parseInt(hex, 16)),
              ),
            'latin1',
          ).toString('utf8'),
    );
}
