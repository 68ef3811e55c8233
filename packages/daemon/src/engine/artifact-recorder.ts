import { existsSync } from 'node:fs';
import type { ArtifactRef } from '@sluice/shared-protocol';
import { ENGINE_ACTOR, type EngineDeps } from './engine-types.js';

export type ArtifactKind = ArtifactRef['kind'];

/**
 * Store content in the artifact store and tie it to an attempt. `optional` files that do not exist are skipped.
 */
export async function recordArtifact(
  deps: Pick<EngineDeps, 'store' | 'artifacts'>,
  ids: { runId: string; stepId: string; attemptId: string },
  kind: ArtifactKind,
  name: string,
  mediaType: string,
  content: { file: string; optional?: boolean } | { data: Buffer | string },
): Promise<ArtifactRef | null> {
  let blob;
  if ('file' in content) {
    if (content.optional && !existsSync(content.file)) return null;
    blob = await deps.artifacts.putFile(content.file);
  } else {
    blob = await deps.artifacts.putBuffer(content.data);
  }
  return deps.store.addArtifactRef({ digest: blob.digest, size: blob.size, mediaType, kind, name, runId: ids.runId, stepId: ids.stepId, attemptId: ids.attemptId }, ENGINE_ACTOR);
}
