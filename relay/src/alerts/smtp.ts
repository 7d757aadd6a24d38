/** The alert email transport: made on first use, so a relay whose SMTP server is down still starts. */
import nodemailer, { type Transporter } from 'nodemailer';

/** Per attempt, for every channel kind. */
export const ALERT_SEND_TIMEOUT_MS = 10_000;

/** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS from the start). */
export function lazyTransport(url: string): () => Transporter {
  let transport: Transporter | undefined;
  return () => {
    if (transport) return transport;
    const parsed = new URL(url);
    const secure = parsed.protocol === 'smtps:';
    transport = nodemailer.createTransport({
      host: parsed.hostname.replace(/^\[|\]$/g, ''),
      port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
      secure,
      ...(parsed.username
        ? { auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } }
        : {}),
      connectionTimeout: ALERT_SEND_TIMEOUT_MS,
      greetingTimeout: ALERT_SEND_TIMEOUT_MS,
      socketTimeout: ALERT_SEND_TIMEOUT_MS,
    });
    return transport;
  };
}
