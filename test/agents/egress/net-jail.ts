// A network namespace with only loopback, in which the CLIs run: a CLI that ignores the proxy still cannot reach
// anything off this machine. The loopback servers of the test (model API, recording proxy) are bridged into it on
// the same port numbers through unix sockets.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BRIDGE = join(dirname(fileURLToPath(import.meta.url)), 'netns-bridge.mjs');

export interface Bridged {
  port: number;
  accept(socket: Socket): void;
}

/** Why a jail cannot be made here, or null when `unshare -n` works. */
export function netJailUnavailable(): string | null {
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.error) return `unshare is not available (${probe.error.message})`;
  if (probe.status !== 0) return `\`unshare -n ip link set lo up\` failed: ${probe.stderr.trim()} (needs root or CAP_SYS_ADMIN)`;
  return null;
}

export class NetJail {
  private readonly dir = mkdtempSync(join(tmpdir(), 'sluice-netjail-'));
  private readonly servers: Server[] = [];
  private holder: ChildProcess | undefined;

  /** Starts the namespace with `targets` reachable on 127.0.0.1 at their own port numbers. */
  async start(targets: Bridged[]): Promise<this> {
    for (const t of targets) {
      const server = createServer((socket) => t.accept(socket));
      await new Promise<void>((resolve) => server.listen(join(this.dir, `${t.port}.sock`), resolve));
      this.servers.push(server);
    }
    const holder = spawn('unshare', ['-n', process.execPath, BRIDGE, this.dir, ...targets.map((t) => String(t.port))], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.holder = holder;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      holder.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      holder.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      holder.on('exit', (code) => reject(new Error(`the network namespace bridge exited with ${code}: ${err}`)));
    });
    return this;
  }

  /** The argv prefix that runs a command inside the namespace. */
  wrap(argv: string[]): string[] {
    if (!this.holder?.pid) throw new Error('NetJail not started');
    return ['nsenter', `--net=/proc/${this.holder.pid}/ns/net`, '--', ...argv];
  }

  async close(): Promise<void> {
    this.holder?.stdin?.end();
    this.holder?.kill();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
