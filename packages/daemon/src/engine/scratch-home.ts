import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildPolicy } from '../config/executor-config.js';

/** The empty HOME of one attempt's children, in its scratch folder (mode 700). */
export function makeScratchHome(scratch: string): string {
  const home = join(scratch, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

/** `HOME` for a child under its policy: the scratch home unless the operator passes theirs through. */
export function homeEnv(policy: ChildPolicy, scratchHome: string): Record<string, string> {
  return policy.home.passThrough ? {} : { HOME: scratchHome };
}

/** Remove an attempt's scratch home and whatever its children left there. */
export function removeScratchHome(scratch: string): void {
  rmSync(join(scratch, 'home'), { recursive: true, force: true, maxRetries: 2 });
}
