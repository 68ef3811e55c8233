import type Database from 'better-sqlite3';

const PROJECTIONS = [
  { entity: 'run', table: 'runs', key: 'run_id' },
  { entity: 'step', table: 'steps', key: 'step_id' },
  { entity: 'attempt', table: 'attempts', key: 'attempt_id' },
] as const;

/** One disagreement between the replayed ledger and a projection table. */
export interface ProjectionDifference {
  table: string;
  id: string;
  problem: 'missing' | 'unexpected' | 'differs';
  columns: string[];
}

/** Replay `transitions` in order: the last snapshot of each entity is what its projection row must be. */
function replay(db: Database.Database): Map<string, Map<string, Record<string, unknown>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>(PROJECTIONS.map((p) => [p.entity, new Map()]));
  const rows = db.prepare('SELECT entity, entity_id, snapshot FROM transitions ORDER BY seq').iterate() as IterableIterator<{ entity: string; entity_id: string; snapshot: string }>;
  for (const r of rows) out.get(r.entity)?.set(r.entity_id, JSON.parse(r.snapshot) as Record<string, unknown>);
  return out;
}

/** Compare the projections with the replayed ledger; an empty list means they agree. */
export function checkProjections(db: Database.Database): ProjectionDifference[] {
  const replayed = replay(db);
  const diffs: ProjectionDifference[] = [];
  for (const p of PROJECTIONS) {
    const expected = replayed.get(p.entity)!;
    const seen = new Set<string>();
    for (const row of db.prepare(`SELECT * FROM ${p.table}`).iterate() as IterableIterator<Record<string, unknown>>) {
      const id = String(row[p.key]);
      seen.add(id);
      const want = expected.get(id);
      if (!want) {
        diffs.push({ table: p.table, id, problem: 'unexpected', columns: [] });
        continue;
      }
      // A snapshot written before a migration added a column has no value for it: the column's default, NULL.
      const columns = Object.keys(row).filter((c) => JSON.stringify(row[c]) !== JSON.stringify(Object.prototype.hasOwnProperty.call(want, c) ? want[c] : null));
      if (columns.length > 0) diffs.push({ table: p.table, id, problem: 'differs', columns });
    }
    for (const id of expected.keys()) if (!seen.has(id)) diffs.push({ table: p.table, id, problem: 'missing', columns: [] });
  }
  return diffs;
}

/** Rewrite the projections from the ledger in one transaction; returns what was different before. */
export function rebuildProjections(db: Database.Database): ProjectionDifference[] {
  const diffs = checkProjections(db);
  if (diffs.length === 0) return diffs;
  const replayed = replay(db);
  db.transaction(() => {
    db.pragma('defer_foreign_keys = ON');
    for (const p of [...PROJECTIONS].reverse()) db.prepare(`DELETE FROM ${p.table}`).run();
    for (const p of PROJECTIONS) {
      for (const row of replayed.get(p.entity)!.values()) {
        const cols = Object.keys(row);
        db.prepare(`INSERT INTO ${p.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => row[c] as never));
      }
    }
  }).immediate();
  return diffs;
}
