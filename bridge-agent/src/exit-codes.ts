/**
 * How the agent process ends, for the service manager that runs it. A relay that refuses the
 * agent's credential (unknown, disabled, or replaced and past its grace) gives the same answer
 * on every start, so the service must not restart the agent into a loop: the agent exits with a
 * code its service treats as final. systemd is told so (`RestartPreventExitStatus=78`); launchd
 * (`KeepAlive`/`SuccessfulExit`) and Task Scheduler (restart on failure) have no per-code rule,
 * only "failed or not", so under them the agent ends such a run as a success. The service files
 * pass `--service-manager` for that; the log says why in words either way. A configuration the
 * agent cannot use is just as final: the same file gets read again on every start.
 */
import type { ServiceManager } from './config/schema.js';

/** Anything else that stops the agent (a bad certificate, a protocol the relay refuses, a bug). */
export const EXIT_FAILURE = 1;

/** sysexits' EX_CONFIG: the relay refused the credential; restarting cannot help. */
export const EXIT_CREDENTIAL_REFUSED = 78;

/** The configuration cannot be used (a bad value, a missing token), run by hand. */
export const EXIT_CONFIG_UNUSABLE = 2;

/** The exit code of a refused credential under `manager`. */
export function credentialRefusedExit(manager: ServiceManager): number {
  return manager === 'launchd' || manager === 'task-scheduler' ? 0 : EXIT_CREDENTIAL_REFUSED;
}

/** The exit code for a fatal link error: a refused credential (401/403) or anything else. */
export function fatalExitCode(error: { status?: number | undefined }, manager: ServiceManager): number {
  return error.status === 401 || error.status === 403 ? credentialRefusedExit(manager) : EXIT_FAILURE;
}

/** The exit code of an unusable configuration: 2 by hand, else what `manager` does not restart. */
export function configErrorExit(manager: ServiceManager): number {
  return manager === 'none' ? EXIT_CONFIG_UNUSABLE : credentialRefusedExit(manager);
}

/**
 * Under the Windows launcher (service/windows-launcher.ts), a process that handed over to its
 * self-updated successor: the launcher then waits for that successor instead of starting another
 * agent beside it. Elsewhere a plain 0 (systemd's ExitType=cgroup and launchd's
 * AbandonProcessGroup keep the successor in the service).
 */
export const EXIT_HANDED_OVER = 75;

/** The exit code of a process that handed over to its successor, under `manager`. */
export function handedOverExit(manager: ServiceManager): number {
  return manager === 'task-scheduler' ? EXIT_HANDED_OVER : 0;
}
