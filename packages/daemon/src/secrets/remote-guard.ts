import { SluiceError } from '@sluice/shared-protocol';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Store } from '../store/index.js';
import { scanUnscanned } from './artifact-scan.js';
import { refsOfDigest, unreleasedArtifactFindings, unreleasedFindings } from './findings.js';
import { redactLines, redactSecrets } from './scanner.js';
import { secretRule } from './rules.js';

/** Who records the scan of an artifact found unscanned at read time. */
const SCANNER_ACTOR = 'system:secrets';

type Json = unknown;

function isLogEvent(v: Record<string, unknown>): v is { type: 'attempt.log'; data: { lines: { text: string }[]; continuesKeyBlock?: boolean } } {
  const data = v.data as { lines?: unknown } | undefined;
  return v.type === 'attempt.log' && typeof data === 'object' && data !== null && Array.isArray(data.lines) && data.lines.every((l) => typeof (l as { text?: unknown })?.text === 'string');
}

function redactLogEvent(e: { data: { lines: { text: string }[]; continuesKeyBlock?: boolean } }): { lines: { text: string }[] } {
  const { lines } = redactLines(e.data.lines.map((l) => l.text), e.data.continuesKeyBlock === true);
  return { ...guardRemotePayload(e.data), lines: e.data.lines.map((l, i) => ({ ...l, text: lines[i]! })) };
}

/**
 * A payload bound for a remote caller with every credential shape withheld: each string is scanned, and the
 * lines of an `attempt.log` event are scanned together so a key block over several lines goes whole. Every read
 * path that answers a remote caller passes its answer through here (artifact content is withheld whole instead).
 */
export function guardRemotePayload<T extends Json>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value).text as T;
  if (Array.isArray(value)) return value.map((v: Json) => guardRemotePayload(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (isLogEvent(obj)) return { ...obj, data: redactLogEvent(obj) } as T;
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, guardRemotePayload(v)])) as T;
}

/**
 * Refuse a remote read of an artifact while any ref of its bytes in the run has an unreleased finding, saying
 * which rules matched and how the local operator releases it. Refs recorded before scanning existed are scanned now.
 */
export async function requireArtifactReleased(deps: { store: Store; artifacts: ArtifactStore }, runId: string, digest: string): Promise<void> {
  const refs = refsOfDigest(deps.store, runId, digest);
  await scanUnscanned(deps, refs, SCANNER_ACTOR);
  const held = refs.filter((r) => unreleasedArtifactFindings(deps.store, r.artifactId).length > 0);
  if (held.length === 0) return;
  const rules = [...new Set(held.flatMap((r) => unreleasedArtifactFindings(deps.store, r.artifactId).flatMap((f) => f.rules)))];
  const labels = rules.map((id) => secretRule(id)?.label ?? id).join(', ');
  const ids = held.map((r) => r.artifactId).join(' ');
  throw new SluiceError('ARTIFACT_WITHHELD', `The artifact matched a credential shape (${labels}) and is withheld from remote reads; the local operator must review it: sluice artifact release ${ids}`);
}

/** Refuse a remote acceptance of an attempt with unreleased findings. */
export function requireNoUnreleasedFindings(store: Store, attemptId: string): void {
  const findings = unreleasedFindings(store, attemptId);
  if (findings.length === 0) return;
  const rules = [...new Set(findings.flatMap((f) => f.rules))].join(', ');
  const where = findings.map((f) => `${f.kind} ${f.subjectId}`).join(', ');
  throw new SluiceError('SECRET_REVIEW_REQUIRED', `Attempt ${attemptId} holds credential shapes (${rules}) in ${where}; the local operator must approve it (sluice approve) or release what was withheld first.`);
}
