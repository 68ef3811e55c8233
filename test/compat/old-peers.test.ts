import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '@sluice/connector';
import { PROTOCOL_VERSION } from '@sluice/shared-protocol';
import { buildOldRelease } from '../../scripts/build-old-release.mjs';
import { ConnectorNode, DaemonNode, FIX_TASK, HttpPlanner, makeBuggyRepo, RelayNode, followEvents, stopAll } from '../helpers/index.mjs';

/** The 0.1.0 release (protocol 2026-11-23), built from the git history unless SLUICE_OLD_BUILD names a build. */
let old: { relay: string; connector: string; daemon: string };
const dirs: string[] = [];

beforeAll(() => {
  const root = process.env.SLUICE_OLD_BUILD ?? buildOldRelease();
  const bin = (pkg: string) => join(root, `packages/${pkg}/dist/cli/main.js`);
  old = { relay: bin('relay'), connector: bin('connector'), daemon: bin('daemon') };
}, 600_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An operator machine (daemon and connector of one build; the old build's when `bins` are given) enrolled at the relay. */
async function machine(relay: RelayNode, bins?: { daemon: string; connector: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compat-'));
  dirs.push(dir);
  const repo = await makeBuggyRepo(join(dir, 'tiny-math'));
  const daemon = new DaemonNode(join(dir, 'daemon-home'), bins ? { bin: bins.daemon } : {});
  await daemon.init();
  await daemon.addWorkspace(repo.path, 'tiny-math', { approval: { policy: 'none', remote: false } });
  // 0.1.0 has no such key (and lets the simulation run with validations).
  if (bins) daemon.editConfig((cfg) => delete cfg.workspaces['tiny-math']!['allowSimulationWithValidations']);
  await daemon.start();
  const org = await relay.createOrg('compat', undefined, () => relay.ready ?? relay.start());
  const connector = new ConnectorNode(daemon, bins ? { bin: bins.connector } : {});
  await connector.enroll(relay.url!, org.enrollToken, 'compat-laptop', ['tiny-math']);
  return { dir, daemon, connector, org };
}

describe('a 0.1.0 machine (daemon and connector) against this relay', () => {
  it('connects on protocol 2026-11-23 and serves a whole run', async () => {
    const relayHome = mkdtempSync(join(tmpdir(), 'sluice-compat-relay-'));
    dirs.push(relayHome);
    const relay = new RelayNode(relayHome);
    const m = await machine(relay, old);
    try {
      await m.connector.start();
      const planner = new HttpPlanner(relay.url!, m.org.plannerToken);
      const run = await planner.call('runs.open', { workspaceId: 'tiny-math' });
      const step = await planner.call('steps.dispatch', { runId: run.runId, executor: 'simulation', task: FIX_TASK, validations: ['test'] });
      const settled = await followEvents(planner, {
        runId: run.runId,
        timeoutMs: 30_000,
        until: (e) => e.type === 'step.state_changed' && e.stepId === step.stepId && e.data['to'] === 'succeeded',
      });
      // A 0.1.0 gate.created has no baseRef/baseCommit: this relay's reader keeps it as it is instead of refusing the page.
      expect(settled.match.data).toMatchObject({ to: 'succeeded' });
      const { events } = await planner.call('events.list', { runId: run.runId, limit: 500 });
      const gate = events.find((e) => e.type === 'gate.created');
      expect(gate?.data).toMatchObject({ kind: 'validation', status: 'passed' });
      expect(gate?.data).not.toHaveProperty('baseRef');
      expect((await planner.call('steps.get', { stepId: step.stepId })).state).toBe('succeeded');
      expect((await planner.call('instances.list', {})).instances[0]).toMatchObject({ online: true });
    } finally {
      await stopAll([['connector', m.connector], ['relay', relay], ['daemon', m.daemon]]);
    }
  }, 120_000);
});

describe('this connector against a 0.1.0 relay', () => {
  it(`is refused at hello: the old relay does not speak ${PROTOCOL_VERSION}`, async () => {
    const relayHome = mkdtempSync(join(tmpdir(), 'sluice-compat-relay-'));
    dirs.push(relayHome);
    const relay = new RelayNode(relayHome, { bin: old.relay });
    const m = await machine(relay);
    try {
      // Enrollment worked (above); the session is refused at hello and the connector stops with its exit code.
      const res = await m.connector.cli(['run'], { timeoutMs: 30_000 });
      expect(res.code).toBe(EXIT_CODES.unsupportedProtocol);
      expect(res.stderr).toContain(`sluice-connector: UNSUPPORTED_PROTOCOL_VERSION: protocol version ${PROTOCOL_VERSION} is not supported`);
    } finally {
      await stopAll([['relay', relay], ['daemon', m.daemon]]);
    }
  }, 120_000);
});
