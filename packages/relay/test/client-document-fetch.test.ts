import { describe, expect, it } from 'vitest';
import { ClientDocumentFetchError, clientDocumentFetch, isAllowedDestination } from '../src/oauth/client-document-fetch.js';

describe('the client metadata document fetch', () => {
  it('allows public unicast addresses only (loopback only when a test allows it)', () => {
    const refused = ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2001:db8::1', 'ff02::1'];
    for (const a of refused) expect(isAllowedDestination(a, false), a).toBe(false);
    for (const a of ['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isAllowedDestination(a, false), a).toBe(true);
    expect(isAllowedDestination('127.0.0.1', true)).toBe(true);
    expect(isAllowedDestination('::1', true)).toBe(true);
    expect(isAllowedDestination('10.0.0.1', true)).toBe(false);
  });

  it('refuses before connecting: http, a host with any private address, an IP literal, no address', async () => {
    const resolved: string[] = [];
    const answers: Record<string, { address: string; family: number }[]> = {
      'mixed.test': [{ address: '93.184.215.14', family: 4 }, { address: '10.0.0.7', family: 4 }],
      'metadata.test': [{ address: '169.254.169.254', family: 4 }],
      'v6.test': [{ address: 'fd00::1', family: 6 }],
      'none.test': [],
    };
    const fetchDoc = clientDocumentFetch({ resolve: async (h) => (resolved.push(h), answers[h] ?? []), maxBytes: 1024, timeoutMs: 1000 });
    for (const url of ['http://mixed.test/c.json', 'https://mixed.test/c.json', 'https://metadata.test/c.json', 'https://v6.test/c.json', 'https://127.0.0.1/c.json', 'https://[::1]/c.json', 'https://none.test/c.json']) {
      await expect(fetchDoc(url), url).rejects.toBeInstanceOf(ClientDocumentFetchError);
    }
    // Resolved once per fetch (never for http: or an IP literal): the connection would go to the checked address.
    expect(resolved).toEqual(['mixed.test', 'metadata.test', 'v6.test', 'none.test']);
  });
});
