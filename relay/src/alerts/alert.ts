/** What a notification says, whatever carries it. */

export type AlertSeverity = 'info' | 'warning' | 'critical';

export type Alert = {
  /** Stable per incident: its opening and its recovery share it (a receiver can pair them). */
  id: string;
  /** `incident` opens, `recovery` closes, `test` is a channel's "send test". */
  kind: 'incident' | 'recovery' | 'test';
  /** The rule that fired, e.g. `bridge_not_serving`. */
  rule: string;
  severity: AlertSeverity;
  /** One line. */
  title: string;
  /** Plain words: what happened, and the fix when there is one. */
  text: string;
  /** Where to look: a dashboard URL when the relay knows its public address. */
  link?: string | undefined;
  /** ISO 8601. */
  at: string;
  /** What it is about (client, agent, model, key, relay), for receivers that route on it. */
  labels: Record<string, string>;
};

/** The alert as one plain-text message (chat channels, email body). */
export function plainText(alert: Alert): string {
  const mark =
    alert.kind === 'recovery'
      ? '✅'
      : alert.kind === 'test'
        ? 'ℹ️'
        : alert.severity === 'critical'
          ? '🔴'
          : '🟠';
  const lines = [`${mark} ${alert.title}`, '', alert.text];
  if (alert.link) lines.push('', alert.link);
  return lines.join('\n');
}
