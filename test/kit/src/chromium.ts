import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireDebianTool } from './system-tools.js';

/** Debian's Chromium; the tests drive it with playwright-core, never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, and nothing that would call out of the machine (this machine refuses such connections anyway). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Why browser tests are skipped (SLUICE_SKIP_BROWSER=1 outside CI), or undefined; missing Chromium otherwise throws. */
export function browserSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const tool = requireDebianTool({ path: CHROMIUM_PATH, pkg: 'chromium', skip: 'BROWSER' }, env);
  return 'skip' in tool ? tool.skip : undefined;
}

/** A headless Chromium with a fresh profile; `close` removes the profile. */
export async function launchHeadlessChromium(opts: { viewport?: { width: number; height: number } } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, ...(opts.viewport ? { viewport: opts.viewport } : {}) });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
