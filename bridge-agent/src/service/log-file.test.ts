/**
 * The rotating log file: its size bound under a burst, the number of files kept, what an
 * oversized line becomes, where it goes, and that no secret reaches it.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logging.js';
import { LOG_FILE_NAME, logFileLine, logFileOf, RotatingLogFile } from './log-file.js';
import { openRunLog } from './run-log.js';

const folder = () => mkdtempSync(join(tmpdir(), 'arena-log-'));

/** Every line of the current file and the rotated ones, oldest first. */
function allLines(path: string, keep: number): string[] {
  const files = [...Array.from({ length: keep }, (_, i) => `${path}.${keep - i}`), path];
  return files
    .filter((file) => existsSync(file))
    .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean));
}

describe('rotating log file', () => {
  it('a burst of writes: each file stays within its bound, at most keep + 1 files, the newest lines kept in order', () => {
    const dir = folder();
    const path = join(dir, LOG_FILE_NAME);
    const file = new RotatingLogFile(path, { maxBytes: 20_000, keep: 3 });
    const logger = createLogger({ level: 'info', destination: file });
    for (let n = 0; n < 5_000; n++) logger.info({ n, words: 'é'.repeat(n % 40) }, 'served a request');
    file.close();
    expect(readdirSync(dir).sort()).toEqual([
      LOG_FILE_NAME,
      `${LOG_FILE_NAME}.1`,
      `${LOG_FILE_NAME}.2`,
      `${LOG_FILE_NAME}.3`,
    ]);
    for (const name of readdirSync(dir)) {
      const size = statSync(join(dir, name)).size;
      expect(size).toBeLessThanOrEqual(20_000);
      // Rotated files were full: the rotation happens at the bound, not long before it.
      if (name !== LOG_FILE_NAME) expect(size).toBeGreaterThan(19_000);
    }
    // Whole JSON lines, none split across files, the last ones in order without a gap.
    const numbers = allLines(path, 3).map((line) => (JSON.parse(line) as { n: number }).n);
    expect(numbers.at(-1)).toBe(4_999);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 5_000 - numbers.length + i));
    expect(numbers.length).toBeGreaterThan(400);
  });

  it('appends to an existing file and counts its size; keep 0 keeps the current file only', () => {
    const dir = folder();
    const path = join(dir, LOG_FILE_NAME);
    writeFileSync(path, `${'x'.repeat(900)}\n`);
    const file = new RotatingLogFile(path, { maxBytes: 1_000, keep: 0 });
    file.write(`${'y'.repeat(200)}\n`);
    file.close();
    expect(readdirSync(dir)).toEqual([LOG_FILE_NAME]);
    expect(readFileSync(path, 'utf8')).toBe(`${'y'.repeat(200)}\n`);
  });

  it('a line longer than the bound is left out in words, and the bound holds', () => {
    const dir = folder();
    const path = join(dir, LOG_FILE_NAME);
    const file = new RotatingLogFile(path, { maxBytes: 1_000, keep: 1 });
    file.write(`${JSON.stringify({ msg: 'z'.repeat(50_000) })}\n`);
    file.write('{"msg":"after"}\n');
    file.close();
    const lines = allLines(path, 1);
    expect(JSON.parse(lines[0]!).msg).toMatch(/^a log line of 50011 bytes was left out/);
    expect(lines[1]).toBe('{"msg":"after"}');
    expect(statSync(path).size).toBeLessThanOrEqual(1_000);
  });

  it('a rotation that fails stops the file, says so once on stderr, and never throws into the agent', () => {
    const dir = folder();
    const path = join(dir, LOG_FILE_NAME);
    // Where `.1` should go sits a folder that cannot be removed as a file.
    mkdirSync(`${path}.1`);
    writeFileSync(join(`${path}.1`, 'keep'), '');
    const file = new RotatingLogFile(path, { maxBytes: 100, keep: 1 });
    const said: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      said.push(String(text));
      return true;
    });
    try {
      for (let i = 0; i < 10; i++) expect(() => file.write(`${'x'.repeat(60)}\n`)).not.toThrow();
    } finally {
      spy.mockRestore();
    }
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`stopped writing ${path}`);
    expect(readFileSync(path, 'utf8')).toBe(`${'x'.repeat(60)}\n`);
  });

  it('writes after close are dropped, not thrown', () => {
    const file = new RotatingLogFile(join(folder(), LOG_FILE_NAME));
    file.close();
    file.close();
    expect(() => file.write('{}\n')).not.toThrow();
  });

  it('where: log_file (relative to the config folder), else beside config.jsonc for a service, else none', () => {
    expect(logFileOf({ serviceManager: 'systemd', logFile: undefined }, '/home/a/agent/config.jsonc')).toBe(
      '/home/a/agent/arena-agent.log',
    );
    expect(
      logFileOf({ serviceManager: 'none', logFile: undefined }, '/home/a/agent/config.jsonc'),
    ).toBeUndefined();
    expect(logFileOf({ serviceManager: 'none', logFile: 'logs/a.log' }, '/home/a/agent/config.jsonc')).toBe(
      '/home/a/agent/logs/a.log',
    );
    expect(logFileOf({ serviceManager: 'launchd', logFile: '/var/x.log' }, '/c.jsonc')).toBe('/var/x.log');
    // No config file: nothing to put a service's log beside.
    expect(logFileOf({ serviceManager: 'task-scheduler', logFile: undefined }, undefined)).toBeUndefined();
  });
});

describe('doctor’s log file line', () => {
  it('where it is, how big and when written; where it would be; none without a config file', () => {
    const dir = folder();
    const config = join(dir, 'config.jsonc');
    expect(logFileLine({ logFile: undefined }, config)).toEqual({
      status: 'ok',
      what: 'log file',
      detail: `${join(dir, LOG_FILE_NAME)} (not written yet: the agent writes it when it runs as a service)`,
    });
    writeFileSync(join(dir, LOG_FILE_NAME), 'x'.repeat(3000));
    expect(logFileLine({ logFile: undefined }, config).detail).toMatch(
      new RegExp(`^${join(dir, LOG_FILE_NAME)} \\(3 KiB, last written \\d{4}-`),
    );
    expect(logFileLine({ logFile: undefined }, undefined).detail).toMatch(/^none: no config file/);
  });
});

describe('a run’s log', () => {
  it('the file gets exactly the console’s lines, and neither holds a token, an API key or an authorization header', () => {
    const dir = folder();
    const config = join(dir, 'config.jsonc');
    let console = '';
    const run = openRunLog(
      { logLevel: 'info', serviceManager: 'task-scheduler', logFile: undefined },
      config,
      {
        console: { write: (text: string) => (console += text) },
      },
    );
    expect(run.logFile).toBe(join(dir, LOG_FILE_NAME));
    const marker = 'art_MARKER7f3a9c';
    run.logger.info({ token: marker, apiKey: `sk-ar-${marker}`, upstreamApiKey: marker }, 'started');
    run.logger.warn({ headers: { authorization: `Bearer ${marker}` } }, 'relay answered');
    run.logger.error({ link: { token: marker, api_key: marker, authorization: marker } }, 'refused');
    run.logger.child({ requestId: 'r1' }).info({ token: marker }, 'request');
    // A remote party's words with terminal controls are written inert, as on the console.
    run.logger.info({ reason: 'bad\u009b[31mred\u202e' }, 'bridge said');
    run.close();
    const written = readFileSync(run.logFile!, 'utf8');
    expect(written).toBe(console);
    expect(written.split('\n').filter(Boolean)).toHaveLength(5);
    expect(written).not.toContain('MARKER7f3a9c');
    expect(written).toContain('[redacted]');
    expect(written).not.toMatch(/[\u009b\u202e]/);
  });

  it('a log file that cannot be opened leaves the console, with a warning saying so', () => {
    const dir = folder();
    writeFileSync(join(dir, 'not-a-folder'), '');
    let console = '';
    const run = openRunLog(
      { logLevel: 'info', serviceManager: 'systemd', logFile: 'not-a-folder/agent.log' },
      join(dir, 'config.jsonc'),
      { console: { write: (text: string) => (console += text) } },
    );
    expect(run.logFile).toBeUndefined();
    run.logger.info('still logging');
    expect(console).toMatch(/cannot open the log file; console only/);
    expect(console).toContain('still logging');
  });
});
