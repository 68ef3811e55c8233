// Two relay processes (replicas) on one PostgreSQL database behind a round-robin TCP balancer, and one operator
// machine (daemon and connector) whose connector's socket lives on replica A.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshPgDatabase, TcpBalancer } from '@sluice/test-kit';
import { addMachine, RelayNode, stopAll } from './index.mjs';
import type { Machine } from './index.mjs';

export interface ReplicaStack {
  dir: string;
  db: { url: string };
  lb: TcpBalancer;
  a: RelayNode;
  b: RelayNode;
  machine: Machine;
  stop(): Promise<void>;
}

export async function startReplicaStack(opts: { approval: { policy: 'none' | 'always'; remote: boolean } }): Promise<ReplicaStack> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-replicas-'));
  const db = await freshPgDatabase();
  const lb = new TcpBalancer([]);
  await lb.listen();
  const replica = (name: string) => new RelayNode(join(dir, name), { heartbeatMs: 1000, env: { SLUICE_RELAY_DB: db.url }, startArgs: ['--public-url', lb.url] });
  const a = replica('relay-a');
  const b = replica('relay-b');
  const stack: Partial<ReplicaStack> = { dir, db, lb, a, b };
  stack.stop = async () => {
    await stopAll([
      ['connector', stack.machine?.connector],
      ['relay-a', a],
      ['relay-b', b],
      ['daemon', stack.machine?.daemon],
    ]);
    await lb.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([a.start(), b.start()]);
    // Only A in rotation while the connector connects, so its socket is on A; then both.
    lb.targets = [a.port];
    // The operator's machine knows the relay by the balancer's address only.
    const front = Object.assign(Object.create(a) as RelayNode, { url: lb.url });
    stack.machine = await addMachine(front, { dir, orgName: 'acme', workspaceId: 'tiny-math', approval: opts.approval });
    lb.targets = [a.port, b.port];
    return stack as ReplicaStack;
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
}
