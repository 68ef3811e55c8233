import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's Chromium; the tests drive it with playwright-core, never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Whether browser tests run: Chromium must be installed (`apt-get install -y chromium`), unless SLUICE_SKIP_BROWSER=1
 * outside CI; returns the reason to skip, or undefined. Missing Chromium without the skip throws, naming the package.
 */
export function browserSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (env.SLUICE_SKIP_BROWSER === '1') {
    if (env.CI === 'true') throw new Error('SLUICE_SKIP_BROWSER=1 is refused under CI=true: install chromium');
    return 'SLUICE_SKIP_BROWSER=1 and chromium is not installed';
  }
  throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (or SLUICE_SKIP_BROWSER=1 outside CI)`);
}

/** A headless Chromium with a fresh profile; `close` removes the profile. */
export async function launchHeadlessChromium() {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
