/**
 * The real Sluice stack for scenarios: the built bins of the daemon and connector as separate processes, wired
 * with their CLIs by the end-to-end harness in test/helpers (one definition of "how an operator sets it up").
 * The relay runs from its built package in its own process like `sluice-relay start`, with the per-token rate
 * limit raised (see fixtures/relay-bench-server.mjs): a benchmark sends far more than 600 requests a minute.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess } from '../../test/helpers/proc.mjs';
import { RelayNode, addMachine, stopAll } from '../../test/helpers/stack.mjs';

export { DaemonNode, RelayNode, ConnectorNode, addMachine } from '../../test/helpers/stack.mjs';
export { McpPlanner, HttpPlanner } from '../../test/helpers/planner.mjs';

const launcher = fileURLToPath(new URL('../fixtures/relay-bench-server.mjs', import.meta.url));

/** A relay node started by the bench launcher instead of `sluice-relay start`; the CLI still manages orgs/tokens. */
export class BenchRelayNode extends RelayNode {
  async start() {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    this.proc = new ManagedProcess('relay', [launcher, '--port', String(this.port), '--heartbeat-ms', String(this.heartbeatMs), '--log-level', this.logLevel ?? 'info'], { env: this.env });
    const m = await this.proc.waitForOutput(/bench relay listening at (https?:\/\/127\.0\.0\.1:(\d+))/, { timeoutMs: 20_000 });
    this.url = m[1];
    this.port = Number(m[2]);
    return this;
  }
}

/**
 * Relay + daemon + connector as separate processes, with an org, a planner token and the connector sharing a
 * small workspace. `stop()` stops all three and removes the temp dir.
 */
export async function startBenchStack(opts = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-stack-'));
  const relay = new BenchRelayNode(path.join(dir, 'relay-home'), { heartbeatMs: opts.heartbeatMs ?? 15_000 });
  const stack = { dir, relay, workspaceId: opts.workspaceId ?? 'bench-ws' };
  stack.stop = async () => {
    await stopAll([
      ['connector', stack.connector],
      ['relay', stack.relay],
      ['daemon', stack.daemon],
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await relay.start();
    const machine = await addMachine(relay, { dir, orgName: 'bench', workspaceId: stack.workspaceId, approval: opts.approval ?? { policy: 'none', remote: true } });
    Object.assign(stack, { daemon: machine.daemon, connector: machine.connector, org: machine.org, repo: machine.repo });
    return stack;
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
