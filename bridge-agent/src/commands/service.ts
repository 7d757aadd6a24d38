/**
 * `install-service` / `uninstall-service`: writes the platform's service file from its template
 * and registers it (systemd user unit, launchd agent, Scheduled Task), or stops and removes it.
 * `--dry-run` prints the file and the commands instead. Uninstalling twice is fine.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { ConfigError, configFilePath, loadConfig } from '../config/load-config.js';
import type { AgentConfig } from '../config/schema.js';
import { LOG_KEEP, LOG_MAX_BYTES, logFileOf } from '../service/log-file.js';
import { pathsOf, serviceCommand } from '../service/service-command.js';
import { type Rendered, type ServiceTarget, type Step, serviceTarget } from '../service/service-target.js';
import { type CommandContext, EXIT } from './context.js';
import { splitOwnFlags } from './own-flags.js';

/** A command as the owner would type it, for messages. */
export function formatStep(step: Step): string {
  return [step.program, ...step.args]
    .map((arg) => (/^[\w@%+=:,./\\-]+$/.test(arg) ? arg : JSON.stringify(arg)))
    .join(' ');
}

function targetOf(ctx: CommandContext): ServiceTarget | undefined {
  const target = serviceTarget(ctx);
  if (!target)
    ctx.err(`services are supported on Linux (systemd), macOS (launchd) and Windows, not ${ctx.platform}`);
  return target;
}

/** Runs `steps` in order, echoing each; false when one that must succeed failed. */
async function runSteps(ctx: CommandContext, steps: readonly Step[]): Promise<boolean> {
  for (const step of steps) {
    ctx.out(`$ ${formatStep(step)}`);
    const result = await ctx.run(step.program, step.args);
    if (result.code === 0 || step.mayFail) continue;
    const said = (result.stderr || result.stdout).trim();
    ctx.err(`${step.program} failed (exit ${result.code})${said ? `: ${said}` : ''}`);
    return false;
  }
  return true;
}

/** Parses `[--config FILE] [--dry-run]`; anything else is refused: the service reads only the file. */
function parseArgs(ctx: CommandContext, name: string): { configPath: string; dryRun: boolean } | undefined {
  const { own, rest, problems } = splitOwnFlags(ctx.argv, { '--dry-run': 'switch', '--config': 'value' });
  for (const arg of rest)
    problems.push(`${name} takes only --config and --dry-run, not ${arg}: put settings in config.jsonc`);
  if (problems.length > 0) {
    for (const problem of problems) ctx.err(problem);
    return undefined;
  }
  const config = typeof own['--config'] === 'string' ? ['--config', own['--config']] : [];
  return { configPath: configFilePath(config, ctx.env, ctx.cwd), dryRun: own['--dry-run'] === true };
}

export async function installService(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx, 'install-service');
  if (!args) return EXIT.unusable;
  const target = targetOf(ctx);
  if (!target) return EXIT.failed;
  let config: AgentConfig;
  try {
    // What the service will see: the file alone, no AGENT_* variables, no flags.
    config = loadConfig({ argv: ['--config', args.configPath], env: {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    ctx.err(
      `the service would run with ${args.configPath} alone (no AGENT_* variables, no flags), and it is not usable:`,
    );
    for (const problem of error.problems) ctx.err(`  - ${problem}`);
    return EXIT.unusable;
  }
  // Companions first: the service file refers to them.
  let files: { file: string; rendered: Rendered }[];
  try {
    const command = serviceCommand({ ...ctx, configPath: args.configPath });
    files = [...target.companions, target].map(({ file, render }) => ({ file, rendered: render(command) }));
  } catch (error) {
    ctx.err((error as Error).message);
    return EXIT.unusable;
  }
  const logFile = logFileOf({ ...config, serviceManager: target.system }, args.configPath);
  if (args.dryRun) {
    for (const { file, rendered } of files) {
      ctx.out(`would write ${file}:`);
      for (const line of rendered.text.replace(/\n$/, '').split('\n')) ctx.out(`  ${line}`);
    }
    ctx.out(`the service would log to ${logFile}`);
    ctx.out('would run:');
    for (const step of target.install) ctx.out(`  ${formatStep(step)}`);
    return EXIT.ok;
  }
  for (const { file, rendered } of files) {
    mkdirSync(pathsOf(ctx.platform).dirname(file), { recursive: true });
    writeFileSync(file, rendered.bytes, { mode: 0o644 });
    ctx.out(`wrote ${file}`);
  }
  if (!(await runSteps(ctx, target.install))) return EXIT.failed;
  ctx.out(`installed the ${target.system} service; it runs ${args.configPath}`);
  ctx.out(`log file: ${logFile} (rotated at ${LOG_MAX_BYTES / 2 ** 20} MiB, ${LOG_KEEP} old files kept)`);
  for (const note of target.notes) ctx.out(note);
  return EXIT.ok;
}

export async function uninstallService(ctx: CommandContext): Promise<number> {
  const args = parseArgs(ctx, 'uninstall-service');
  if (!args) return EXIT.unusable;
  const target = targetOf(ctx);
  if (!target) return EXIT.failed;
  const present = existsSync(target.file);
  if (args.dryRun) {
    ctx.out('would run:');
    for (const step of target.stop) ctx.out(`  ${formatStep(step)}`);
    ctx.out(present ? `would remove ${target.file}` : `(${target.file} is not there)`);
    for (const { file } of target.companions) if (existsSync(file)) ctx.out(`would remove ${file}`);
    for (const step of target.afterRemove) ctx.out(`  ${formatStep(step)}`);
    return EXIT.ok;
  }
  if (!(await runSteps(ctx, target.stop))) return EXIT.failed;
  if (present) {
    rmSync(target.file, { force: true });
    ctx.out(`removed ${target.file}`);
  }
  for (const { file } of target.companions) {
    if (!existsSync(file)) continue;
    rmSync(file, { force: true });
    ctx.out(`removed ${file}`);
  }
  if (!(await runSteps(ctx, target.afterRemove))) return EXIT.failed;
  ctx.out(
    present ? 'the service is stopped and removed' : 'no service file was installed; nothing left to remove',
  );
  return EXIT.ok;
}
