/**
 * The bound counter and histogram expose exactly what prom-client's own would for the same
 * observations (label order aside, which Prometheus ignores), through the same Registry, default
 * labels and merge included.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** Exposition lines with each sample's labels sorted, so that label order does not count. */
function normalise(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /^([^{ ]+)\{(.*)\} (.+)$/.exec(line);
      if (!match) return line;
      const labels = match[2]!.match(/\w+="(?:[^"\\]|\\.)*"/g)!.sort();
      return `${match[1]}{${labels.join(',')}} ${match[3]}`;
    })
    .sort();
}

async function exposition(registry: Registry): Promise<string[]> {
  const merged = Registry.merge([registry]);
  merged.setDefaultLabels({ relay: 'relay-1' });
  return normalise(await merged.metrics());
}

describe('bound metrics', () => {
  it('expose the same series and values as prom-client for the same observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const counter = new Counter({
      name: 'req_total',
      help: 'Requests',
      labelNames: ['model', 'status'],
      registers: [theirs],
    });
    const histogram = new Histogram({
      name: 'dur_seconds',
      help: 'Durations',
      labelNames: ['model'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const boundCounter = new BoundCounter('req_total', 'Requests', [ours]);
    const boundHistogram = new BoundHistogram('dur_seconds', 'Durations', BUCKETS, [ours]);
    // Values on bucket edges, between them, under the first and over the last; odd label values.
    const models = ['gpt-5', 'claude "opus" 4', 'モデル\\n'];
    const values = [0, 0.01, 0.0100001, 0.05, 0.3, 1, 1.5, 1000];
    for (const [i, model] of models.entries()) {
      for (const [j, value] of values.entries()) {
        if ((i + j) % 3 === 0) continue;
        const status = String(200 + 100 * (j % 3));
        counter.inc({ model, status }, j + 1);
        boundCounter.inc(`${model}\n${status}`, () => ({ model, status }), j + 1);
        histogram.observe({ model }, value);
        boundHistogram.observe(model, () => ({ model }), value);
      }
    }
    const expected = await exposition(theirs);
    expect(expected.length).toBeGreaterThan(30);
    expect(await exposition(ours)).toEqual(expected);
  });

  it('builds a label set once per key, and reset forgets every series', async () => {
    const registry = new Registry();
    const counter = new BoundCounter('n_total', 'N', [registry]);
    let built = 0;
    const labels = () => {
      built++;
      return { route: '/v1/chat/completions' };
    };
    for (let i = 0; i < 1000; i++) counter.inc('chat', labels);
    expect(built).toBe(1);
    expect(await registry.metrics()).toContain('n_total{route="/v1/chat/completions"} 1000');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('n_total{');
  });
});
