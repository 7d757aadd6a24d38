/**
 * For command tests: a CommandContext for the owner on Linux, nothing on disk, no terminal,
 * every program "succeeding" without running, and both output streams appended to `out`.
 * `over` replaces any of it.
 */
import type { CommandContext } from '../commands/context.js';

export function commandContext(out: string[], over: Partial<CommandContext> = {}): CommandContext {
  return {
    argv: [],
    env: {},
    cwd: '/nonexistent',
    platform: 'linux',
    homeDir: '/nonexistent',
    user: { name: 'owner', uid: 1000 },
    execPath: process.execPath,
    execArgv: [],
    entry: '/nonexistent/arena-agent.mjs',
    nodeVersion: process.versions.node,
    run: async () => ({ code: 0, stdout: '', stderr: '' }),
    interactive: false,
    ask: async () => '',
    out: (line) => out.push(line),
    err: (line) => out.push(line),
    ...over,
  };
}
