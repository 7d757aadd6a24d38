/**
 * A counter and a histogram whose label sets are bound once: a child per label set, found by a
 * key the caller builds (`model`, or `method route status`), holding plain numbers. prom-client's
 * own `inc(labels)` / `observe(labels)` (and its `labels()` children, which only bind the object)
 * validate, sort and hash the label object on every call — ~6 µs of the relay's CPU per request
 * for the five series a request moves. Here a request costs a Map lookup and a few additions; the
 * exposition is built at scrape time, in prom-client's format, by the same Registry.
 *
 * Children are never dropped: callers only bind label values from bounded sets (models capped by
 * MAX_MODEL_LABELS, HTTP statuses, RelayError codes, route patterns).
 */
import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string>;
type Sample = { labels: Record<string, string | number>; value: number; metricName?: string };

abstract class BoundMetric<Child extends { labels: Labels }> {
  protected readonly children = new Map<string, Child>();
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    registers: Registry[],
  ) {
    // prom-client's Registry reads a metric through get()/reset() and its name: a duck type.
    for (const registry of registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The child of a label set; `labels` runs only the first time `key` is seen. */
  protected childOf(key: string, labels: () => Labels): Child {
    let child = this.children.get(key);
    if (!child) {
      child = this.create(labels());
      this.children.set(key, child);
    }
    return child;
  }

  protected abstract create(labels: Labels): Child;
  protected abstract samples(child: Child): Sample[];

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values = [...this.children.values()].flatMap((child) => this.samples(child));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    });
  }

  reset(): void {
    this.children.clear();
  }
}

type CounterChild = { labels: Labels; value: number };

export class BoundCounter extends BoundMetric<CounterChild> {
  readonly type = 'counter';

  /** Adds `value` (default 1) to the series of `key`. */
  inc(key: string, labels: () => Labels, value = 1): void {
    this.childOf(key, labels).value += value;
  }

  protected create(labels: Labels): CounterChild {
    return { labels, value: 0 };
  }

  protected samples(child: CounterChild): Sample[] {
    return [{ labels: child.labels, value: child.value }];
  }
}

type HistogramChild = { labels: Labels; counts: Float64Array; sum: number; count: number };

export class BoundHistogram extends BoundMetric<HistogramChild> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    /** Upper bounds, ascending; a value counts in the first bucket it is ≤ to (as prom-client). */
    private readonly buckets: readonly number[],
    registers: Registry[],
  ) {
    super(name, help, registers);
  }

  observe(key: string, labels: () => Labels, value: number): void {
    const child = this.childOf(key, labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    if (i < this.buckets.length) child.counts[i]!++;
    child.sum += value;
    child.count++;
  }

  protected create(labels: Labels): HistogramChild {
    return { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
  }

  protected samples(child: HistogramChild): Sample[] {
    const bucket = `${this.name}_bucket`;
    let total = 0;
    const out: Sample[] = this.buckets.map((le, i) => {
      total += child.counts[i]!;
      return { labels: { le, ...child.labels }, value: total, metricName: bucket };
    });
    out.push(
      { labels: { le: '+Inf', ...child.labels }, value: child.count, metricName: bucket },
      { labels: child.labels, value: child.sum, metricName: `${this.name}_sum` },
      { labels: child.labels, value: child.count, metricName: `${this.name}_count` },
    );
    return out;
  }
}
