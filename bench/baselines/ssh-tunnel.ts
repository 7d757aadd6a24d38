/**
 * Baseline: `ssh -R` through a throwaway local sshd — the classic way to reach a NAT'ed service.
 * Generated host and client keys and sshd_config in a temporary folder, sshd bound to 127.0.0.1
 * on a free port; the consumer enters at the port sshd opens for the remote forward, and the ssh
 * client carries the bytes to the bridge. Removed on stop.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { processTree } from '../proc-stats.js';
import {
  type Baseline,
  findBinary,
  freePort,
  kill,
  type Skipped,
  spawnLogged,
  waitForPort,
} from './tools.js';

/** sshd refuses to start without its privilege-separation folder, which its service unit creates. */
const PRIVSEP_DIR = '/run/sshd';

function sshdConfig(dir: string): string {
  return `ListenAddress 127.0.0.1
HostKey ${dir}/host_key
PidFile ${dir}/sshd.pid
AuthorizedKeysFile ${dir}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowTcpForwarding yes
LogLevel ERROR
`;
}

export async function startSshTunnel(upstreamUrl: string): Promise<Baseline | Skipped> {
  const sshd = findBinary('sshd');
  const ssh = findBinary('ssh');
  const keygen = findBinary('ssh-keygen');
  if (!sshd || !ssh || !keygen) {
    return { skipped: 'ssh -R baseline — sshd or ssh is not installed (apt-get install openssh-server)' };
  }
  if (!existsSync(PRIVSEP_DIR)) {
    try {
      mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
    } catch {
      return { skipped: `ssh -R baseline — sshd needs ${PRIVSEP_DIR}, which could not be created` };
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'arena-bench-ssh-'));
  for (const key of ['host_key', 'client_key']) {
    execFileSync(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, key)], { stdio: 'ignore' });
  }
  copyFileSync(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir));
  const sshdPort = await freePort();
  const server = spawnLogged(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(sshdPort)]);
  const stopServer = async () => {
    await kill(server.child);
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPort(sshdPort))) {
    await stopServer();
    return { skipped: `ssh -R baseline — sshd did not start (${server.stderr() || 'no output'})` };
  }
  const forwardPort = await freePort();
  const upstream = new URL(upstreamUrl);
  const client = spawnLogged(ssh, [
    '-N',
    '-R',
    `${forwardPort}:${upstream.hostname}:${upstream.port}`,
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ExitOnForwardFailure=yes',
    '-o',
    'LogLevel=ERROR',
    '-i',
    join(dir, 'client_key'),
    '-p',
    String(sshdPort),
    `${userInfo().username}@127.0.0.1`,
  ]);
  const stop = async () => {
    await kill(client.child);
    await stopServer();
  };
  if (!(await waitForPort(forwardPort))) {
    await stop();
    return { skipped: `ssh -R baseline — the tunnel did not come up (${client.stderr() || 'no output'})` };
  }
  return {
    name: 'ssh -R',
    url: `http://127.0.0.1:${forwardPort}`,
    // sshd forks a process per connection: it, not the listener, moves the bytes.
    entry: () => processTree(server.child.pid),
    exit: () => processTree(client.child.pid),
    stop,
  };
}
