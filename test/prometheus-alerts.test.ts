/**
 * docs/prometheus-alerts.yml is an example operators copy: it must parse as Prometheus rule
 * groups, and every `arena_relay_*` metric it names must be one the relay's /metrics serves.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parsePrometheus } from './support/prometheus.js';
import { startTestRelay } from './support/relay.js';

type Rule = { alert?: string; expr?: unknown; for?: string; labels?: Record<string, string> };
type RuleFile = { groups: Array<{ name: string; rules: Rule[] }> };

const FILE = new URL('../docs/prometheus-alerts.yml', import.meta.url);

describe('docs/prometheus-alerts.yml', () => {
  it('parses as rule groups, and names only metrics the relay serves', async () => {
    const rules = parse(await readFile(FILE, 'utf8')) as RuleFile;
    expect(rules.groups.length).toBeGreaterThan(0);
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThanOrEqual(5);
    for (const rule of all) {
      expect(rule.alert).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(typeof rule.expr).toBe('string');
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['critical', 'warning', 'info']).toContain(rule.labels?.severity);
    }

    const relay = await startTestRelay();
    const served = parsePrometheus(await (await fetch(`${relay.url}/metrics`)).text());
    const named = new Set(
      all.flatMap((rule) => [...String(rule.expr).matchAll(/\barena_relay_[a-z_]+/g)].map((m) => m[0])),
    );
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) {
      // A histogram's series carry the _bucket/_sum/_count suffix; its TYPE line names the base.
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect([name, served.types.has(base)]).toEqual([name, true]);
    }
    // The success-rate rule reads the one classification, by its class names.
    const classes = new Set(
      [
        ...(await (await fetch(`${relay.url}/metrics`)).text()).matchAll(
          /request_results_total\{[^}]*result="(\w+)"/g,
        ),
      ].map((m) => m[1]),
    );
    expect([...classes].sort()).toEqual(['cancelled', 'consumer_error', 'failed', 'ok']);
  });
});
