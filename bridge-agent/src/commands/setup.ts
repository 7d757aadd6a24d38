/**
 * `setup` (what setup_client.sh and setup_client.ps1 run): checks Node.js, writes the settings
 * given as flags into config.jsonc and validates it as a service would read it (the file alone),
 * checks the relay and the bridge as `doctor` does, then installs the service when asked
 * (`--service`), when the owner says yes at the prompt, or never (`--no-service`, or no terminal).
 * Exit code: 0 ready, 1 a check or the service install failed, 2 the config cannot be used.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { ConfigError, configFilePath } from '../config/load-config.js';
import type { FieldName } from '../config/schema.js';
import { formatLine } from '../doctor/check-line.js';
import { type ConfigEdit, editConfig } from '../setup/config-edit.js';
import { type CommandContext, EXIT } from './context.js';
import { checkAll, type DoctorOptions, nodeLine } from './doctor.js';
import { splitOwnFlags } from './own-flags.js';
import { installService } from './service.js';

export type SetupOptions = DoctorOptions;

/** true / false when the owner chose, undefined to ask (or not, without a terminal). */
function serviceChoice(own: Record<string, string | true>): boolean | undefined {
  if (own['--no-service']) return false;
  if (own['--service']) return true;
  return undefined;
}

async function wantsService(ctx: CommandContext, choice: boolean | undefined): Promise<boolean> {
  if (choice !== undefined) return choice;
  if (!ctx.interactive) {
    ctx.out('not installing a service (no terminal to ask); run setup again with --service to install one');
    return false;
  }
  const answer = await ctx.ask('Install the agent as a service that starts when you log in? [y/N] ');
  return /^\s*y(es)?\s*$/i.test(answer);
}

/**
 * Asks for the bridge's address and key when the owner is at a terminal and neither the flags
 * nor the file say them; the checks after the edit tell whether they work.
 */
async function askBridge(
  ctx: CommandContext,
  original: string | undefined,
  argv: readonly string[],
): Promise<{ argv: string[]; answers: Partial<Record<FieldName, string>> }> {
  const answers: Partial<Record<FieldName, string>> = {};
  const out = [...argv];
  if (!ctx.interactive) return { argv: out, answers };
  const has = (key: string) => new RegExp(`"${key}"\\s*:`).test(original ?? '');
  if (!argv.includes('--upstream') && !has('upstream_url')) {
    const url = await ctx.ask(
      "Your bridge's address (Enter: http://127.0.0.1:5102, LMArenaBridge v2.7.6; CloudWaddie's LMArenaBridge: http://127.0.0.1:8000; WebAI2API: http://127.0.0.1:3000; Ollama: http://127.0.0.1:11434): ",
    );
    if (url.trim()) out.push('--upstream', url.trim());
  }
  if (!has('upstream_api_key') && ctx.env.AGENT_UPSTREAM_API_KEY === undefined) {
    const key = await ctx.ask(
      "Your bridge's API key (Enter: none; CloudWaddie's: an sk-lmab-… key from its dashboard): ",
    );
    if (key.trim()) answers.upstreamApiKey = key.trim();
  }
  return { argv: out, answers };
}

export async function runSetup(ctx: CommandContext, options: SetupOptions = {}): Promise<number> {
  const { own, rest, problems } = splitOwnFlags(ctx.argv, {
    '--service': 'switch',
    '--no-service': 'switch',
  });
  if (own['--service'] && own['--no-service']) problems.push('--service and --no-service exclude each other');
  if (problems.length > 0) {
    for (const problem of problems) ctx.err(problem);
    return EXIT.unusable;
  }
  const node = nodeLine(ctx.nodeVersion);
  ctx.out(formatLine(node));
  if (node.status === 'fail') return EXIT.failed;

  const path = configFilePath(rest, ctx.env, ctx.cwd);
  const original = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  const asked = await askBridge(ctx, original, rest);
  let edit: ConfigEdit;
  try {
    edit = editConfig(path, original, asked.argv, asked.answers);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    ctx.err(
      original === undefined
        ? `there is no ${path}, and the flags given do not make a usable one:`
        : `${path} cannot be used:`,
    );
    for (const problem of error.problems) ctx.err(`  - ${problem}`);
    if (original === undefined) {
      ctx.err(
        'run setup in the folder of the client package from the relay, or pass --relay URL --token TOKEN',
      );
    }
    return EXIT.unusable;
  }
  if (edit.text !== original) {
    writeFileSync(path, edit.text, { mode: 0o600 });
    // The file holds the client token: only its owner may read it, also when it existed before.
    chmodSync(path, 0o600);
    ctx.out(`${original === undefined ? 'wrote' : 'updated'} ${path} (${edit.changed.join(', ')})`);
  } else {
    ctx.out(`${path} is valid`);
  }

  const lines = await checkAll(edit.config, options);
  for (const line of lines) ctx.out(formatLine(line));
  const failed = lines.some((line) => line.status === 'fail');
  if (failed) ctx.out('some checks failed: the agent retries by itself, but fix them to get it serving');

  if (await wantsService(ctx, serviceChoice(own))) {
    const installed = await installService({ ...ctx, argv: ['--config', path] });
    if (installed !== EXIT.ok) return installed;
  } else {
    const entry = relative(ctx.cwd, ctx.entry);
    const shown = entry.startsWith('..') || isAbsolute(entry) ? ctx.entry : entry;
    ctx.out(
      `start the agent with: node ${shown}${path === configFilePath([], {}, ctx.cwd) ? '' : ` --config ${path}`}`,
    );
  }
  return failed ? EXIT.failed : EXIT.ok;
}
