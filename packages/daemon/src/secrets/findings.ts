import type { ArtifactRef } from '@sluice/shared-protocol';
import type { Store } from '../store/index.js';

/** What a scan is about: an artifact (by id), an `attempt.log` event (by its cursor in the run) or an attempt's summary. */
export type SecretSubjectKind = 'artifact' | 'event' | 'summary';

/** Where a subject belongs. */
export interface SecretScope {
  runId: string;
  stepId: string | null;
  attemptId: string | null;
}

/** A subject that matched and has not been released. */
export interface SecretFinding {
  kind: SecretSubjectKind;
  subjectId: string;
  rules: string[];
}

function targetOf(scope: SecretScope): SecretScope {
  return { runId: scope.runId, stepId: scope.stepId, attemptId: scope.attemptId };
}

interface ScanRow {
  subject_kind: SecretSubjectKind;
  subject_id: string;
  rules: string;
}

/**
 * Record the verdict of one scan. A hit also marks the attempt with `attempt.secret_detected`, naming the rules
 * and the subject, never the secret. Clean events and summaries leave no row (there would be one per log batch).
 */
export function recordScan(store: Store, scope: SecretScope, subject: { kind: SecretSubjectKind; id: string; name?: string }, rules: readonly string[], actor: string): void {
  if (rules.length === 0 && subject.kind !== 'artifact') return;
  store.transaction(() => {
    store.db
      .prepare('INSERT INTO secret_scans (run_id, attempt_id, subject_kind, subject_id, rules, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(scope.runId, scope.attemptId, subject.kind, subject.id, JSON.stringify(rules), actor, new Date().toISOString());
    if (rules.length === 0) return;
    const data = { subject: subject.kind, subjectId: subject.id, rules: [...rules], ...(subject.name !== undefined ? { name: subject.name } : {}) };
    store.appendEvent({ type: 'attempt.secret_detected', ...targetOf(scope), data }, actor);
  });
}

const UNRELEASED = `
SELECT s.subject_kind, s.subject_id, s.rules FROM secret_scans s
WHERE s.rules <> '[]' AND NOT EXISTS (SELECT 1 FROM secret_releases r WHERE r.subject_kind = s.subject_kind AND r.subject_id = s.subject_id)`;

function toFindings(rows: ScanRow[]): SecretFinding[] {
  return rows.map((r) => ({ kind: r.subject_kind, subjectId: r.subject_id, rules: JSON.parse(r.rules) as string[] }));
}

/** An attempt's findings the local operator has not released: while there is one, only a local decision accepts it. */
export function unreleasedFindings(store: Store, attemptId: string): SecretFinding[] {
  return toFindings(store.db.prepare(`${UNRELEASED} AND s.attempt_id = ? ORDER BY s.id`).all(attemptId) as ScanRow[]);
}

/** The findings of one artifact that are not released. */
export function unreleasedArtifactFindings(store: Store, artifactId: string): SecretFinding[] {
  return toFindings(store.db.prepare(`${UNRELEASED} AND s.subject_kind = 'artifact' AND s.subject_id = ? ORDER BY s.id`).all(artifactId) as ScanRow[]);
}

/** Whether an artifact was ever scanned (one recorded before scanning existed was not). */
export function artifactScanned(store: Store, artifactId: string): boolean {
  return store.db.prepare("SELECT 1 FROM secret_scans WHERE subject_kind = 'artifact' AND subject_id = ? LIMIT 1").get(artifactId) !== undefined;
}

/** Every ref of a digest in a run: the same bytes may be stored under several artifacts. */
export function refsOfDigest(store: Store, runId: string, digest: string): ArtifactRef[] {
  return store.listArtifacts({ runId }).filter((a) => a.digest === digest);
}

/** Whether a subject was released already. */
export function isReleased(store: Store, kind: SecretSubjectKind, subjectId: string): boolean {
  return store.db.prepare('SELECT 1 FROM secret_releases WHERE subject_kind = ? AND subject_id = ? LIMIT 1').get(kind, subjectId) !== undefined;
}

/** Record the local operator's release of one subject, with the event the planner sees. */
export function recordRelease(store: Store, scope: SecretScope, subject: { kind: SecretSubjectKind; id: string }, rules: readonly string[], reason: string | null, actor: string): void {
  store.transaction(() => {
    store.db
      .prepare('INSERT INTO secret_releases (run_id, attempt_id, subject_kind, subject_id, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(scope.runId, scope.attemptId, subject.kind, subject.id, reason, actor, new Date().toISOString());
    store.appendEvent({ type: 'attempt.secret_released', ...targetOf(scope), data: { subject: subject.kind, subjectId: subject.id, rules: [...rules] } }, actor);
  });
}

/** An event's cursor within its run, as `events.list` shows it (the ledger's own cursor says nothing to a planner). */
export function runCursorOf(store: Store, runId: string, cursor: number): number {
  return (store.db.prepare('SELECT count(*) AS n FROM events WHERE run_id = ? AND cursor <= ?').get(runId, cursor) as { n: number }).n;
}

/** What the ledger says of one artifact's secrets: not scanned (null), the rules that matched, and its releases. */
export function artifactSecretStatus(store: Store, artifactId: string): { rules: string[] | null; releases: { actor: string; at: string; reason: string | null }[] } {
  const scans = store.db.prepare("SELECT rules FROM secret_scans WHERE subject_kind = 'artifact' AND subject_id = ? ORDER BY id").all(artifactId) as { rules: string }[];
  const releases = store.db.prepare("SELECT actor, at, reason FROM secret_releases WHERE subject_kind = 'artifact' AND subject_id = ? ORDER BY id").all(artifactId) as { actor: string; at: string; reason: string | null }[];
  const rules = scans.length === 0 ? null : [...new Set(scans.flatMap((s) => JSON.parse(s.rules) as string[]))];
  return { rules, releases };
}
