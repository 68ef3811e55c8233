// Small helpers of the built-in authorization server's hostile suite.
import type { OAuthStack } from '../e2e/oauth-kit.js';
import { untouchedCounts } from './in-process-stack.js';

export { inputValue, ScriptedBrowser } from '@sluice/test-kit';

/** Row counts of every relay and daemon table but the audit tables. */
export function untouched(s: OAuthStack): { relay: Record<string, number>; daemon: Record<string, number> } {
  return { relay: untouchedCounts(s.stack.relayStore.db), daemon: untouchedCounts(s.stack.daemon.store.db) };
}
