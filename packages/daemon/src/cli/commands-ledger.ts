import type { Command } from 'commander';
import { DIGEST_PATTERN, RUN_STATES, RunId, SluiceError, type Event } from '@sluice/shared-protocol';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { AUDIT_BROKEN_EXIT_CODE } from '@sluice/node-kit';
import { checkProjections, rebuildProjections, verifyAuditChain } from '../store/index.js';
import { registerArtifactReviewCommands } from './commands-artifact-review.js';
import { withStore } from './context.js';
import { printJson, printTable } from './output.js';

function formatEvent(e: Event): string {
  const ids = [e.stepId, e.attemptId].filter(Boolean).join(' ');
  return `${e.cursor}\t${e.at}\t${e.runId}\t${e.type}\t${e.actor}${ids ? `\t${ids}` : ''}\t${JSON.stringify(e.data)}`;
}

/** Read-side operator commands that work on `state.db` directly (with or without a running daemon). */
export function registerLedgerCommands(program: Command): void {
  registerRunsCommand(program);
  registerRunShowCommand(program);
  registerEventsCommand(program);
  registerArtifactCommands(program);
  registerAuditCommands(program);
  registerDbCommands(program);
}

function registerRunsCommand(program: Command): void {
  program
    .command('runs')
    .description('List runs, newest first')
    .option('--workspace <id>', 'only this workspace')
    .option('--state <state>', `only runs in this state (${RUN_STATES.join(', ')})`)
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (o: { workspace?: string; state?: string; limit: string; json?: boolean }) => {
      if (o.state !== undefined && !(RUN_STATES as readonly string[]).includes(o.state)) throw new SluiceError('BAD_REQUEST', `--state must be one of ${RUN_STATES.join(', ')}`);
      const limit = Math.min(Math.max(Number.parseInt(o.limit, 10) || 20, 1), 1000);
      await withStore((store) => {
        const { runs } = store.listRuns({ workspaceIds: null, workspaceId: o.workspace, state: o.state as never, limit });
        if (o.json) return printJson({ runs });
        if (runs.length === 0) return void process.stdout.write('no runs\n');
        printTable([['RUN', 'WORKSPACE', 'STATE', 'CREATED', 'BY', 'TITLE'], ...runs.map((r) => [r.runId, r.workspaceId, r.state, r.createdAt, r.createdBy, r.title])]);
      });
    });
}

function registerRunShowCommand(program: Command): void {
  const run = program.command('run').description('One run');
  run
    .command('show <runId>')
    .description('Show a run with its steps and attempts')
    .option('--json', 'print JSON')
    .action(async (runId: string, o: { json?: boolean }) => {
      if (!RunId.safeParse(runId).success) throw new SluiceError('BAD_REQUEST', 'Not a run id.');
      await withStore((store) => {
        const detail = store.getRunDetail(runId);
        if (!detail) throw new SluiceError('RUN_NOT_FOUND');
        if (o.json) return printJson(detail);
        const out = [`run ${detail.runId} (${detail.state}) workspace ${detail.workspaceId}`, `  branch ${detail.branch} head ${detail.headCommit}`, `  base ${detail.baseRef} ${detail.baseCommit}`, `  by ${detail.createdBy} at ${detail.createdAt}`];
        for (const s of detail.steps) {
          out.push(`  step ${s.seq} ${s.stepId} ${s.state} executor=${s.executor}${s.acceptedAttemptId ? ` accepted=${s.acceptedAttemptId}` : ''}`);
          for (const a of s.attempts) out.push(`    attempt ${a.number} ${a.attemptId} ${a.state}${a.failureCode ? ` (${a.failureCode})` : ''}${a.commit ? ` commit=${a.commit}` : ''}`);
        }
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });
}

function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .description('Print ledger events; --follow keeps printing new ones')
    .option('--run <runId>', 'only this run')
    .option('--after <cursor>', 'start after this cursor', '0')
    .option('--limit <n>', 'at most this many (without --follow)', '500')
    .option('--follow', 'keep waiting for new events (Ctrl-C to stop)')
    .option('--json', 'one JSON object per line')
    .action(async (o: { run?: string; after: string; limit: string; follow?: boolean; json?: boolean }) => {
      if (o.run !== undefined && !RunId.safeParse(o.run).success) throw new SluiceError('BAD_REQUEST', 'Not a run id.');
      let cursor = Math.max(Number.parseInt(o.after, 10) || 0, 0);
      const limit = Math.min(Math.max(Number.parseInt(o.limit, 10) || 500, 1), 100_000);
      await withStore(async (store) => {
        const print = (events: Event[]) => {
          for (const e of events) process.stdout.write(`${o.json ? JSON.stringify(e) : formatEvent(e)}\n`);
          if (events.length > 0) cursor = events.at(-1)!.cursor;
        };
        if (!o.follow) return print(store.listEvents({ runId: o.run, after: cursor, limit }));
        let stop = false;
        const onSignal = () => {
          stop = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // The daemon may be another process: poll the WAL database.
        while (!stop) {
          const events = store.listEvents({ runId: o.run, after: cursor, limit: 500 });
          print(events);
          if (events.length < 500) await new Promise((r) => setTimeout(r, 250));
        }
      });
    });
}

function registerArtifactCommands(program: Command): void {
  const artifact = program.command('artifact').description('Stored artifacts');
  artifact
    .command('cat <digest>')
    .description('Write an artifact to stdout (verified against its digest first)')
    .action(async (digest: string) => {
      if (!DIGEST_PATTERN.test(digest)) throw new SluiceError('BAD_REQUEST', 'The digest must be sha256:<64 hex>.');
      await withStore(async (_store, home) => {
        const blobs = new ArtifactStore(home.artifacts);
        const stream = await blobs.createReadStream(digest);
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject);
          stream.on('end', resolve);
          stream.pipe(process.stdout, { end: false });
        });
      });
    });
  registerArtifactReviewCommands(artifact);
}

function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The hash-chained audit log');
  audit
    .command('verify')
    .description(`Check the audit hash chain; exit ${AUDIT_BROKEN_EXIT_CODE} and name the first broken row when it was tampered with`)
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withStore((store) => {
        const r = verifyAuditChain(store.db);
        if (o.json) printJson(r);
        else if (r.ok) process.stdout.write(`audit chain ok (${r.rows} rows)\n`);
        else process.stdout.write(`audit chain BROKEN at row ${r.problems[0]!.seq}: ${r.problems[0]!.reason}\n`);
        if (!r.ok) process.exitCode = AUDIT_BROKEN_EXIT_CODE;
      });
    });
}

function registerDbCommands(program: Command): void {
  const db = program.command('db').description('The ledger database');
  db.command('rebuild')
    .description('Replay the ledger into the runs/steps/attempts projections (--check: only report differences)')
    .option('--check', 'report differences without writing')
    .option('--json', 'print JSON')
    .action(async (o: { check?: boolean; json?: boolean }) => {
      await withStore((store) => {
        const diffs = o.check ? checkProjections(store.db) : rebuildProjections(store.db);
        if (o.json) printJson({ ok: diffs.length === 0, differences: diffs, rewritten: !o.check && diffs.length > 0 });
        else if (diffs.length === 0) process.stdout.write('projections agree with the ledger\n');
        else {
          for (const d of diffs) process.stdout.write(`${d.table} ${d.id}: ${d.problem}${d.columns.length ? ` (${d.columns.join(', ')})` : ''}\n`);
          process.stdout.write(o.check ? `${diffs.length} difference(s)\n` : `${diffs.length} difference(s) repaired from the ledger\n`);
        }
        if (o.check && diffs.length > 0) process.exitCode = 1;
      });
    });
}
