import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ArtifactRef } from '@sluice/shared-protocol';
import { ArtifactTooLargeError } from '../artifacts/artifact-store.js';
import { scanArtifact } from '../secrets/artifact-scan.js';
import { ENGINE_ACTOR, type EngineDeps } from './engine-types.js';

export type ArtifactKind = ArtifactRef['kind'];

/** An attempt's artifacts went past a configured cap; nothing of the refused artifact was stored. */
export class ArtifactLimitError extends Error {
  constructor(
    readonly code: 'DIFF_TOO_LARGE' | 'ARTIFACT_LIMIT_EXCEEDED',
    message: string,
  ) {
    super(message);
    this.name = 'ArtifactLimitError';
  }
}

/** The bytes an attempt may still store, and the cap on its diff. */
export class ArtifactBudget {
  constructor(
    private remaining: number,
    readonly diffLimit: number,
    private readonly attemptLimit = remaining,
  ) {}

  /** The most one artifact of `kind` may hold now. */
  maxFor(kind: ArtifactKind): number {
    return kind === 'diff' ? Math.min(this.diffLimit, this.remaining) : this.remaining;
  }

  spend(bytes: number): void {
    this.remaining -= bytes;
  }

  /** The error for an artifact of `kind` refused at `max` bytes. */
  refusal(kind: ArtifactKind, max: number): ArtifactLimitError {
    if (kind === 'diff' && max === this.diffLimit) {
      return new ArtifactLimitError('DIFF_TOO_LARGE', `the diff exceeds the ${this.diffLimit}-byte cap (artifacts.diffLimit); the commit is on the attempt branch, no diff was stored`);
    }
    return new ArtifactLimitError('ARTIFACT_LIMIT_EXCEEDED', `the ${kind} artifact would take this attempt's artifacts past ${this.attemptLimit} bytes (artifacts.attemptLimit); it was not stored`);
  }
}

/** Where an artifact belongs; with a budget, content past its caps is refused with `ArtifactLimitError`. */
export interface ArtifactTarget {
  runId: string;
  stepId: string;
  attemptId: string;
  budget?: ArtifactBudget;
}

/**
 * Store content in the artifact store, tie it to an attempt and scan it for secrets. `optional` files that do not
 * exist are skipped.
 */
export async function recordArtifact(
  deps: Pick<EngineDeps, 'store' | 'artifacts'>,
  ids: ArtifactTarget,
  kind: ArtifactKind,
  name: string,
  mediaType: string,
  content: { file: string; optional?: boolean } | { data: Buffer | string } | { stream: Readable },
): Promise<ArtifactRef | null> {
  const max = ids.budget?.maxFor(kind);
  const opts = max === undefined ? {} : { maxBytes: max };
  let blob;
  try {
    if ('file' in content) {
      if (content.optional && !existsSync(content.file)) return null;
      blob = await deps.artifacts.putFile(content.file, opts);
    } else if ('stream' in content) {
      blob = await deps.artifacts.putStream(content.stream, opts);
    } else {
      blob = await deps.artifacts.putBuffer(content.data, opts);
    }
  } catch (err) {
    if (err instanceof ArtifactTooLargeError && ids.budget) throw ids.budget.refusal(kind, err.maxBytes);
    throw err;
  }
  ids.budget?.spend(blob.size);
  const ref = deps.store.addArtifactRef({ digest: blob.digest, size: blob.size, mediaType, kind, name, runId: ids.runId, stepId: ids.stepId, attemptId: ids.attemptId }, ENGINE_ACTOR);
  await scanArtifact(deps, ref, ENGINE_ACTOR);
  return ref;
}
