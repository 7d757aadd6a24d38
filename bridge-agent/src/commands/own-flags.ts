/**
 * Sub-commands take the agent's own flags (handed on to `loadConfig`) plus a few of their own;
 * this takes theirs out of the argument list first.
 */

/** A sub-command's flags: a switch (`--dry-run`) or one taking a value (`--name x`, `--name=x`). */
export type OwnFlagSpec = Record<string, 'switch' | 'value'>;

export type SplitFlags = {
  /** Switches given map to true, value flags to their value. */
  own: Record<string, string | true>;
  /** Everything else, in order, for `loadConfig`. */
  rest: string[];
  problems: string[];
};

export function splitOwnFlags(argv: readonly string[], spec: OwnFlagSpec): SplitFlags {
  const own: Record<string, string | true> = {};
  const rest: string[] = [];
  const problems: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const kind = spec[flag];
    if (kind === undefined) {
      rest.push(arg);
      continue;
    }
    if (kind === 'switch') {
      if (eq === -1) own[flag] = true;
      else problems.push(`${flag} takes no value`);
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[i + 1]?.startsWith('--') ? undefined : argv[++i];
    if (value === undefined || value === '') problems.push(`${flag} needs a value`);
    else own[flag] = value;
  }
  return { own, rest, problems };
}
