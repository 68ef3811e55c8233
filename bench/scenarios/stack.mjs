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
import { HarnessTimeout, ManagedProcess, readJsonIfExists, waitUntil } from '../../test/helpers/proc.mjs';
import { ConnectorNode, DaemonNode, RelayNode, stopAll } from '../../test/helpers/stack.mjs';
import { makeBuggyRepo } from '../../test/helpers/repo.mjs';

export { DaemonNode, RelayNode, ConnectorNode, addMachine } from '../../test/helpers/stack.mjs';

const daemonBin = fileURLToPath(new URL('../../packages/daemon/dist/cli/main.js', import.meta.url));
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

/** A daemon node started with an explicit `--log-level` (the harness always starts it at the default, info). */
export class BenchDaemonNode extends DaemonNode {
  constructor(home, opts = {}) {
    super(home, opts);
    this.logLevel = opts.logLevel ?? 'info';
  }

  async start() {
    rmSync(path.join(this.home, 'daemon.json'), { force: true });
    this.proc = new ManagedProcess('daemon', [daemonBin, 'daemon', 'start', '--port', '0', '--log-level', this.logLevel], { env: this.env });
    const info = await waitUntil(
      () => {
        if (!this.proc.running) throw new HarnessTimeout(`the daemon exited: ${JSON.stringify(this.proc.exit)}`, this.proc.output);
        const j = readJsonIfExists(path.join(this.home, 'daemon.json'));
        return j && j.pid === this.proc.pid ? j : undefined;
      },
      { timeoutMs: 20_000, what: 'daemon.json' },
    );
    this.url = info.url;
    return this;
  }
}

/**
 * Relay + daemon + connector as separate processes, with an org, a planner token and the connector sharing a
 * small workspace; `opts.logLevel` (default info, as shipped) applies to all three. `stop()` stops all three and removes the temp dir.
 */
export async function startBenchStack(opts = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-stack-'));
  const logLevel = opts.logLevel ?? 'info';
  const relay = new BenchRelayNode(path.join(dir, 'relay-home'), { heartbeatMs: opts.heartbeatMs ?? 15_000 });
  relay.logLevel = logLevel;
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
    // The same steps as the harness's addMachine, with the log level of every process under the bench's control.
    stack.repo = await makeBuggyRepo(path.join(dir, stack.workspaceId));
    stack.daemon = new BenchDaemonNode(path.join(dir, 'daemon-home'), { logLevel });
    await stack.daemon.init();
    await stack.daemon.addWorkspace(stack.repo.path, stack.workspaceId, { approval: opts.approval ?? { policy: 'none', remote: true } });
    await stack.daemon.start();
    stack.org = await relay.createOrg('bench');
    stack.connector = new ConnectorNode(stack.daemon, { env: { SLUICE_LOG_LEVEL: logLevel } });
    await stack.connector.enroll(relay.url, stack.org.enrollToken, 'bench-laptop', [stack.workspaceId]);
    await stack.connector.start();
    return stack;
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
