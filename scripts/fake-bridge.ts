/**
 * Runs the test suite's fake LMArenaBridge as a process, for the demo and the benchmarks:
 *   tsx scripts/fake-bridge.ts [--port 5102] [--chunks N] [--delay-ms N] [--scenario ok] [--api-key K]
 * Prints `{"url":"http://127.0.0.1:<port>"}` as one line on stdout once listening; SIGTERM/SIGINT close it.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CHUNKS, type FakeBridgeScenario, startFakeBridge } from '../test/support/fake-bridge.js';

const SCENARIOS: readonly FakeBridgeScenario[] = [
  'ok',
  'error',
  'attachment-too-large',
  'cloudflare',
  'tab-closed',
  'filter',
  'empty',
  'slow',
  'hang',
];

function fail(message: string): never {
  console.error(`fake-bridge: ${message}`);
  process.exit(2);
}

/** A non-negative integer flag, or `fallback` when absent. */
function count(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0)
    fail(`--${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        chunks: { type: 'string' },
        'delay-ms': { type: 'string' },
        scenario: { type: 'string' },
        'api-key': { type: 'string' },
      },
      strict: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();

const scenario = (values.scenario ?? 'ok') as FakeBridgeScenario;
if (!SCENARIOS.includes(scenario)) fail(`--scenario must be one of ${SCENARIOS.join(', ')}`);
const chunkCount = count('chunks', values.chunks, undefined);

const bridge = await startFakeBridge({
  port: count('port', values.port, 5102),
  // N pieces cycle through the recorded answer, so long answers keep its multi-byte and escaped text.
  ...(chunkCount === undefined
    ? {}
    : { chunks: Array.from({ length: chunkCount }, (_, i) => DEFAULT_CHUNKS[i % DEFAULT_CHUNKS.length]!) }),
  chunkDelayMs: count('delay-ms', values['delay-ms'], 0),
  scenario,
  ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
});
process.stdout.write(`${JSON.stringify({ url: bridge.url })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void bridge.close().then(() => process.exit(0));
  });
}
