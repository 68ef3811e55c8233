// `sluice-connector rotate-key` against a real relay while the connector runs: the relay takes the new key because
// the old one signed the request, the running connector comes back with the new key, and the old key is dead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConnectorConfig, publicKeyOf, privateKeyObject, runCli } from '@sluice/connector';
import { startInProcessStack } from './hostile/in-process-stack.js';
import type { InProcessStack } from './hostile/in-process-stack.js';

let s: InProcessStack;
beforeAll(async () => {
  s = await startInProcessStack();
}, 60_000);
afterAll(async () => {
  await s?.close();
});

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('sluice-connector rotate-key', () => {
  it('installs a new key signed by the old one, and the running connector reconnects with it', async () => {
    const configPath = join(s.daemon.home.root, 'connector.json');
    const before = loadConnectorConfig(configPath);
    const oldPublic = publicKeyOf(privateKeyObject(before.privateKey));
    const oldSession = s.relay.hub.get(s.instanceId)!.sessionId;
    let out = '';
    let err = '';
    const code = await runCli(['--config', configPath, 'rotate-key', '--json'], { env: {}, out: (t) => (out += t), err: (t) => (err += t), signal: new AbortController().signal });
    expect(code, err).toBe(0);
    const after = loadConnectorConfig(configPath);
    const newPublic = publicKeyOf(privateKeyObject(after.privateKey));
    expect(newPublic).not.toBe(oldPublic);
    expect(JSON.parse(out)).toMatchObject({ instanceId: s.instanceId, publicKey: newPublic });
    expect((await s.relayStore.getInstance(s.instanceId))!.publicKey).toBe(newPublic);
    expect(readFileSync(configPath, 'utf8')).not.toContain(before.privateKey as string);
    // The session signed with the old key was closed; the connector is back with the new one.
    await until('the connector to reconnect with the new key', () => {
      const live = s.relay.hub.get(s.instanceId);
      return live && live.sessionId !== oldSession ? live : undefined;
    });
    const rows = s.relayStore.db.prepare("SELECT outcome, detail FROM audit WHERE action = 'connector.key_rotated'").all() as { outcome: string; detail: string }[];
    expect(rows.map((r) => r.outcome)).toEqual(['ok']);
    expect(JSON.parse(rows[0]!.detail)).toEqual({ oldPublicKey: oldPublic, newPublicKey: newPublic });
  });
});
