import type { Command } from 'commander';
import { SluiceError } from '@sluice/shared-protocol';
import { operatorActor } from '@sluice/node-kit';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { parseDuration } from '../config/duration.js';
import { loadConfig } from '../config/load.js';
import { resolveRuntimeBase, runtimePaths } from '../home/runtime-dir.js';
import { collectGarbage, type GcReport } from '../service/retention.js';
import { callDaemon, cliHome, daemonFailure, withStore } from './context.js';
import { printJson } from './output.js';

function olderThanMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (err) {
    throw new SluiceError('BAD_REQUEST', `--older-than: ${(err as Error).message}`);
  }
}

/** `sluice gc`: the retention policy for artifacts, worktrees and attempt branches. */
export function registerGcCommand(program: Command): void {
  program
    .command('gc')
    .description('Delete the artifacts, kept worktrees and attempt branches of attempts that ended longer ago than the retention (artifacts.retention, default 30d)')
    .option('--older-than <duration>', 'retention for this pass, e.g. 7d or 12h (default: artifacts.retention from config.json)')
    .option('--dry-run', 'only count what would be removed')
    .option('--json', 'print the report as JSON')
    .action(async (o: { olderThan?: string; dryRun?: boolean; json?: boolean }) => {
      const home = cliHome();
      const ms = olderThanMs(o.olderThan);
      const dryRun = o.dryRun ?? false;
      const progress = (line: string) => void process.stderr.write(`gc: ${line}\n`);
      let report: GcReport;
      // A running daemon does it itself, so no blob can be deleted while the engine records a new ref to it.
      const viaDaemon = await callDaemon(home, 'POST', '/api/v1/gc', { dryRun, ...(o.olderThan !== undefined ? { olderThan: o.olderThan } : {}) });
      if (viaDaemon) {
        if (viaDaemon.status !== 200) daemonFailure(viaDaemon);
        progress('done by the running daemon');
        report = viaDaemon.body as GcReport;
      } else {
        const config = loadConfig(home.config);
        const runtime = runtimePaths(resolveRuntimeBase(process.env), home.root);
        report = await withStore((store) =>
          collectGarbage(
            { store, artifacts: new ArtifactStore(home.artifacts), config, worktreesDir: runtime.worktrees, attemptsDir: runtime.attempts },
            { actor: operatorActor(), dryRun, onProgress: progress, ...(ms !== undefined ? { olderThanMs: ms } : {}) },
          ),
        );
      }
      if (o.json) return printJson(report);
      const verb = report.dryRun ? 'would remove' : 'removed';
      process.stdout.write(
        `${verb} ${report.artifacts.blobs} artifact blob(s) (${report.artifacts.bytes} bytes), ${report.worktrees} worktree(s), ${report.branches} attempt branch(es), ${report.scratch} scratch folder(s) of attempts that ended before ${report.cutoff}\n`,
      );
    });
}
