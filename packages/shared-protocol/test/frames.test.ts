import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, authSigningPayload, negotiateProtocolVersion, parseFrame, LIMITS } from '@sluice/shared-protocol';

const FIXTURES = join(import.meta.dirname, '../../../test/fixtures');

describe('frame fixtures', () => {
  // `upgrade/` holds the databases of earlier releases (test/upgrade-fixtures.test.ts), not frames.
  const folders = readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'upgrade').map((d) => d.name);

  it('has a folder for the current protocol version', () => {
    expect(folders).toContain(PROTOCOL_VERSION);
  });

  it.each(folders)('fixture folder %s belongs to a protocol version this build tests', (folder) => {
    // A released version's fixtures stay until the version is dropped from SUPPORTED_PROTOCOL_VERSIONS;
    // a folder for a version nobody tests is a mistake, so it fails the run.
    expect(SUPPORTED_PROTOCOL_VERSIONS, `test/fixtures/${folder} has no test: add the version or remove the folder`).toContain(folder);
  });

  for (const folder of folders) {
    const files = readdirSync(join(FIXTURES, folder)).filter((f) => f.endsWith('.json'));
    it.each(files)(`${folder}/%s parses as its kind`, (file) => {
      const r = parseFrame(readFileSync(join(FIXTURES, folder, file), 'utf8'));
      if (file.startsWith('invalid-')) {
        expect(r.ok).toBe(false);
      } else {
        expect(r.ok, JSON.stringify(r)).toBe(true);
        if (r.ok) expect(file.startsWith(r.frame.type)).toBe(true);
      }
    });
    it(`${folder} covers every frame type`, () => {
      const types = new Set(files.filter((f) => !f.startsWith('invalid-')).map((f) => f.replace(/(-.*)?\.json$/, '')));
      expect([...types].sort()).toEqual(['auth', 'challenge', 'error', 'goodbye', 'hello', 'ping', 'pong', 'request', 'response', 'welcome']);
    });
  }
});

describe('parseFrame', () => {
  it('refuses malformed JSON, unknown types and oversized frames with distinct codes', () => {
    expect(parseFrame('{nope')).toMatchObject({ ok: false, code: 'MALFORMED_JSON' });
    expect(parseFrame('{"type":"exec","argv":["sh"]}')).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(parseFrame('x'.repeat(LIMITS.frameBytes + 1))).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(parseFrame('null')).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
  });

  it('takes a hello with or without connectorBuild, and refuses a build that is not a commit and a manifest hash', () => {
    const hello = (connectorBuild?: unknown) => JSON.stringify({ type: 'hello', protocolVersion: PROTOCOL_VERSION, connectorVersion: '0.2.0', connectorBuild, workspaces: [] });
    expect(parseFrame(hello())).toMatchObject({ ok: true });
    expect(parseFrame(hello({ commit: null, manifestSha256: null }))).toMatchObject({ ok: true });
    expect(parseFrame(hello({ commit: 'a'.repeat(40), manifestSha256: 'b'.repeat(64) }))).toMatchObject({ ok: true });
    for (const bad of [{ commit: 'HEAD', manifestSha256: null }, { commit: null, manifestSha256: 'B'.repeat(64) }, { commit: null }, 'abc']) {
      expect(parseFrame(hello(bad)), JSON.stringify(bad)).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    }
  });
});

describe('protocol version', () => {
  it('is a date string and negotiation refuses unknown versions', () => {
    expect(PROTOCOL_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(negotiateProtocolVersion(PROTOCOL_VERSION)).toBe(PROTOCOL_VERSION);
    expect(negotiateProtocolVersion('2020-01-01')).toBeUndefined();
  });

  it('still speaks the previous version, whose frames are the same', () => {
    expect(SUPPORTED_PROTOCOL_VERSIONS).toEqual([PROTOCOL_VERSION, '2026-11-23']);
    expect(negotiateProtocolVersion('2026-11-23')).toBe('2026-11-23');
  });

  it('binds the signature to nonce, instance, relay origin and time', () => {
    const a = authSigningPayload({ nonce: 'n', instanceId: 'i', relayOrigin: 'https://a', timestamp: 1 });
    expect(a).not.toBe(authSigningPayload({ nonce: 'n', instanceId: 'i', relayOrigin: 'https://b', timestamp: 1 }));
    expect(a).not.toBe(authSigningPayload({ nonce: 'n', instanceId: 'i', relayOrigin: 'https://a', timestamp: 2 }));
    expect(a.split('\n')).toEqual(['sluice-connector-auth/v1', 'n', 'i', 'https://a', '1']);
  });
});
