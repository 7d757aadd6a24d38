/**
 * scripts/audit.ts decides pass or fail from npm's report: run it against a stand-in `npm` (first
 * on PATH) that prints canned `npm audit --json` answers, so every verdict is checked offline.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function audit(report: unknown, args: string[] = []) {
  const bin = mkdtempSync(join(tmpdir(), 'fake-npm-'));
  writeFileSync(join(bin, 'report.json'), JSON.stringify(report));
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\ncat "${join(bin, 'report.json')}"\nexit 1\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/audit.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const clean = {
  metadata: {
    vulnerabilities: { info: 0, low: 1, moderate: 2, high: 0, critical: 0 },
    dependencies: { prod: 80 },
  },
  vulnerabilities: {},
};

describe('scripts/audit.ts', () => {
  it('passes when no production package has a high or critical advisory (moderate ones are listed, not fatal)', () => {
    const { status, output } = audit(clean);
    expect(output).toContain('lockfile: every package pinned');
    expect(output).toContain('critical 0, high 0, moderate 2, low 1');
    expect(status).toBe(0);
  });

  it('fails on a high or critical advisory, naming the package', () => {
    const { status, output } = audit({
      metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 1, critical: 0 } },
      vulnerabilities: {
        'some-lib': {
          severity: 'high',
          range: '<1.2.3',
          via: [{ title: 'Prototype pollution', url: 'https://example.test/GHSA-x' }],
        },
      },
    });
    expect(status).toBe(1);
    expect(output).toMatch(/some-lib \(high, <1\.2\.3\): Prototype pollution/);
  });

  it('fails, saying so, when the audit cannot run; --allow-unavailable makes that a loud warning', () => {
    const unreachable = {
      message: '405 Method Not Allowed - POST https://registry.test/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    };
    const refused = audit(unreachable);
    expect(refused.status).toBe(2);
    expect(refused.output).toMatch(/supply chain is NOT verified/);
    expect(refused.output).toContain('405 Method Not Allowed');
    expect(audit({ error: { code: 'ENOTFOUND', summary: 'getaddrinfo ENOTFOUND registry' } }).status).toBe(2);
    expect(audit('not json at all').status).toBe(2);
    const allowed = audit(unreachable, ['--allow-unavailable']);
    expect(allowed.status).toBe(0);
    expect(allowed.output).toMatch(/WITHOUT an advisory check/);
  });
});
