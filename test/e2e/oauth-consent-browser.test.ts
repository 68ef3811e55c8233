// The consent page in a real headless Chromium: an org admin signs in, approves, and the browser lands on the MCP
// client's redirect URI with a code (and the issuer); a screenshot of the page is kept under test-artifacts/.
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, launchHeadlessChromium } from '@sluice/test-kit';
import { ADMIN_NAME, ADMIN_PASSWORD, authorizeUrl, DOC_HOSTS, pkce, rawMcp, startOAuthStack, tokenRequest } from './oauth-kit.js';
import type { OAuthStack } from './oauth-kit.js';

const skip = browserSkipReason();
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let s: OAuthStack;

beforeAll(async () => {
  if (!skip) s = await startOAuthStack();
}, 60_000);

afterAll(async () => {
  await s?.close();
});

describe.skipIf(skip !== undefined)('the consent page in headless Chromium', () => {
  it('signs in, approves, and lands on the client redirect with a code that buys a working token', async () => {
    const relayUrl = s.stack.relayUrl;
    // A native client (its document says so): its loopback redirect URI may use any port, here the callback's.
    const clientId = s.docs.url(DOC_HOSTS.native);
    const callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('client callback'));
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    const redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    const p = pkce();
    const browser = await launchHeadlessChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(authorizeUrl(relayUrl, { client_id: clientId, code_challenge: p.challenge, redirect_uri: redirectUri }).href);
      expect(await page.textContent('#client-name')).toBe('Test Planner');
      expect(await page.textContent('#client-host')).toBe(`${DOC_HOSTS.native}:${s.docs.port}`);
      await page.fill('input[name=name]', ADMIN_NAME);
      await page.fill('input[name=password]', ADMIN_PASSWORD);
      await Promise.all([page.waitForURL(/\/oauth\/consent\//), page.click('#sign-in')]);
      expect(await page.textContent('#admin-name')).toBe(ADMIN_NAME);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'oauth-consent.png'), fullPage: true });
      await Promise.all([page.waitForURL((u) => u.href.startsWith(redirectUri)), page.click('#approve')]);
      expect(await page.textContent('body')).toBe('client callback');
      const landed = new URL(page.url());
      expect(landed.searchParams.get('iss')).toBe(relayUrl);
      const code = landed.searchParams.get('code');
      expect(code).toBeTruthy();
      const token = await tokenRequest(relayUrl, { grant_type: 'authorization_code', code: code!, code_verifier: p.verifier, client_id: clientId, redirect_uri: redirectUri, resource: `${relayUrl}/mcp` });
      expect(token.status).toBe(200);
      expect((await rawMcp(relayUrl, String(token.body.access_token))).status).toBe(200);
    } finally {
      await browser.close();
      await new Promise((r) => callback.close(r));
    }
  }, 60_000);
});
