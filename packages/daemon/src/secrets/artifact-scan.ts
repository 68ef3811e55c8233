import type { ArtifactRef } from '@sluice/shared-protocol';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Store } from '../store/index.js';
import { artifactScanned, recordScan } from './findings.js';
import { scanBlob } from './scanner.js';

/** Scan a stored artifact once and record the verdict (a hit marks its attempt). */
export async function scanArtifact(deps: { store: Store; artifacts: ArtifactStore }, ref: ArtifactRef, actor: string): Promise<string[]> {
  const rules = await scanBlob(ref.size, async (offset, length) => (await deps.artifacts.read(ref.digest, offset, length)).data);
  recordScan(deps.store, ref, { kind: 'artifact', id: ref.artifactId, name: ref.name }, rules, actor);
  return rules;
}

/** Scan the refs that never were (recorded before scanning existed), so no artifact reaches a remote reader unscanned. */
export async function scanUnscanned(deps: { store: Store; artifacts: ArtifactStore }, refs: readonly ArtifactRef[], actor: string): Promise<void> {
  for (const ref of refs) if (!artifactScanned(deps.store, ref.artifactId)) await scanArtifact(deps, ref, actor);
}
