import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeId, NO_ANSWER, workspace } from '@sluice/test-kit';
import type { FakeConnector } from '@sluice/test-kit';
import { callVerb, connectedConnector, fakeRun, orgWithToken, startRelay } from './helpers.js';
import type { TestRelay } from './helpers.js';

const BIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

describe('event streams end when their credential stops holding', () => {
  let t: TestRelay;
  let clock = Date.now();
  let c: FakeConnector;
  let org: Awaited<ReturnType<typeof orgWithToken>>;
  let polls = 0;

  beforeEach(async () => {
    clock = Date.now();
    polls = 0;
    t = await startRelay({ streamRecheckMs: 200 }, { now: () => clock });
    org = await orgWithToken(t.store, 'org-a', ['runs:read', 'runs:write', 'admin']);
    c = await connectedConnector(t, org.org.id, [workspace('ws1')]);
    c.handlers['runs.open'] = (input) => fakeRun(fakeId('run'), input.workspaceId as string);
    // The first page answers at once; every later poll waits (the daemon has nothing new).
    c.handlers['events.list'] = (input) => {
      polls++;
      return input.waitMs === 0 ? { events: [], nextCursor: 0 } : NO_ANSWER;
    };
  });
  afterEach(async () => {
    c.close();
    await t.close();
  });

  /** Open a follow and read it to its end; resolves with the whole text once the relay has sent a poll. */
  async function follow(token: string): Promise<{ polling: Promise<void>; ended: Promise<string> }> {
    const runId = (await callVerb(t.url, org.token, 'runs.open', { workspaceId: 'ws1' })).body.runId as string;
    const res = await fetch(`${t.url}/api/v2/runs/${runId}/events`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const polling = (async () => {
      while (polls < 2) await new Promise((r) => setTimeout(r, 10));
    })();
    const ended = (async () => {
      const reader = res.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    })();
    return { polling, ended };
  }

  async function auditOf(outcome: string) {
    await t.store.flushAudit();
    return t.store.db.prepare('SELECT action, outcome, detail FROM audit WHERE outcome = ? ORDER BY seq').all(outcome) as { action: string; outcome: string; detail: string }[];
  }

  function errorEvent(text: string): { code: string } {
    const m = /event: error\ndata: (.*)\n/.exec(text);
    expect(m, text).not.toBeNull();
    return JSON.parse(m![1]!) as { code: string };
  }

  it('"sign out everywhere" through the admin API closes the stream at once with TOKEN_REVOKED, audited truthfully', async () => {
    const reader = await t.store.createToken({ orgId: org.org.id, name: 'follower', scopes: ['runs:read'] });
    const { polling, ended } = await follow(reader.secret);
    await polling;
    const res = await fetch(`${t.url}/api/v2/admin/tokens/revoke-all`, { method: 'POST', headers: { authorization: `Bearer ${org.token}` } });
    expect(res.status).toBe(200);
    const text = await ended;
    expect(errorEvent(text).code).toBe('TOKEN_REVOKED');
    const pollsAtEnd = polls;
    const rows = await auditOf('TOKEN_REVOKED');
    expect(rows.map((r) => r.action)).toEqual(['auth.failed', 'planner.call']);
    expect(JSON.parse(rows[1]!.detail)).toMatchObject({ verb: 'events.list', via: 'sse' });
    expect(polls).toBe(pollsAtEnd);
  });

  it('a token revoked by the CLI (another process) closes the stream within the re-check interval', async () => {
    const reader = await t.store.createToken({ orgId: org.org.id, name: 'follower', scopes: ['runs:read'] });
    const { polling, ended } = await follow(reader.secret);
    await polling;
    const r = spawnSync(process.execPath, [BIN, '--db', join(t.dir, 'relay.db'), 'token', 'revoke', reader.record.id], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(errorEvent(await ended).code).toBe('TOKEN_REVOKED');
    expect((await auditOf('TOKEN_REVOKED')).map((x) => x.action)).toEqual(['auth.failed', 'planner.call']);
  });

  it('a token that expires while following closes the stream with TOKEN_EXPIRED', async () => {
    const reader = await t.store.createToken({ orgId: org.org.id, name: 'follower', scopes: ['runs:read'], expiresAt: clock + 60_000 });
    const { polling, ended } = await follow(reader.secret);
    await polling;
    clock += 120_000;
    expect(errorEvent(await ended).code).toBe('TOKEN_EXPIRED');
    expect((await auditOf('TOKEN_EXPIRED')).map((x) => x.action)).toEqual(['auth.failed', 'planner.call']);
  });
});
