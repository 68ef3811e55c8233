import { SluiceError, type ArtifactRef } from '@sluice/shared-protocol';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Store } from '../store/index.js';
import { scanUnscanned } from './artifact-scan.js';
import { isReleased, recordRelease, unreleasedArtifactFindings } from './findings.js';

/** What a release did. */
export interface ReleaseOutcome {
  artifact: ArtifactRef;
  /** The rules whose matches are now readable remotely; empty when nothing was withheld. */
  released: string[];
  /** It had been released before. */
  alreadyReleased: boolean;
}

/**
 * The local operator's release of a withheld artifact: remote reads return it from now on, and its attempt no
 * longer needs a local decision for it. Recorded in the ledger and in the audit chain with the reason.
 */
export async function releaseArtifact(deps: { store: Store; artifacts: ArtifactStore }, artifactId: string, reason: string | null, actor: string): Promise<ReleaseOutcome> {
  const { store } = deps;
  const artifact = store.getArtifact(artifactId);
  if (!artifact) throw new SluiceError('ARTIFACT_NOT_FOUND');
  await scanUnscanned(deps, [artifact], actor);
  const findings = unreleasedArtifactFindings(store, artifactId);
  if (findings.length === 0) return { artifact, released: [], alreadyReleased: isReleased(store, 'artifact', artifactId) };
  const rules = [...new Set(findings.flatMap((f) => f.rules))];
  store.transaction(() => {
    recordRelease(store, artifact, { kind: 'artifact', id: artifactId }, rules, reason, actor);
    store.audit({ actor, action: 'artifact.release', target: artifactId, outcome: 'ok', details: { runId: artifact.runId, attemptId: artifact.attemptId, rules, reason } });
  });
  return { artifact, released: rules, alreadyReleased: false };
}
