import type { Command } from 'commander';
import { ArtifactId, SluiceError } from '@sluice/shared-protocol';
import { operatorActor } from '@sluice/node-kit';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { scanUnscanned } from '../secrets/artifact-scan.js';
import { artifactSecretStatus } from '../secrets/findings.js';
import { releaseArtifact } from '../secrets/release.js';
import { withStore } from './context.js';
import { printJson } from './output.js';

const REASON_MAX = 500;

function requireArtifactId(id: string): void {
  if (!ArtifactId.safeParse(id).success) throw new SluiceError('BAD_REQUEST', 'Not an artifact id (art_…); the ARTIFACT_WITHHELD message and `sluice events` name it.');
}

/**
 * `artifact show` and `artifact release`: the local operator's review of what the secrets scanner withheld. They
 * work on the ledger directly, so only someone with this machine's `SLUICE_HOME` can run them.
 */
export function registerArtifactReviewCommands(artifact: Command): void {
  artifact
    .command('show <artifactId>')
    .description('Show an artifact: what it is, and whether remote reads get it (secrets scan, releases)')
    .option('--json', 'print JSON')
    .action(async (artifactId: string, o: { json?: boolean }) => {
      requireArtifactId(artifactId);
      await withStore(async (store, home) => {
        const ref = store.getArtifact(artifactId);
        if (!ref) throw new SluiceError('ARTIFACT_NOT_FOUND');
        await scanUnscanned({ store, artifacts: new ArtifactStore(home.artifacts) }, [ref], operatorActor());
        const status = artifactSecretStatus(store, artifactId);
        if (o.json) return printJson({ artifact: ref, secrets: status });
        const withheld = (status.rules ?? []).length > 0 && status.releases.length === 0;
        const out = [
          `artifact ${ref.artifactId} ${ref.kind} ${ref.name} (${ref.size} bytes, ${ref.mediaType})`,
          `  run ${ref.runId}${ref.attemptId ? ` attempt ${ref.attemptId}` : ''}`,
          `  digest ${ref.digest}`,
          `  secrets: ${(status.rules ?? []).length === 0 ? 'none found' : `${status.rules!.join(', ')}${withheld ? ' (withheld from remote reads)' : ''}`}`,
          ...status.releases.map((r) => `  released by ${r.actor} at ${r.at}${r.reason ? `: ${r.reason}` : ''}`),
          `  content: sluice artifact cat ${ref.digest}`,
        ];
        if (withheld) out.push(`  to let remote callers read it: sluice artifact release ${ref.artifactId} --reason "..."`);
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });

  artifact
    .command('release <artifactId>')
    .description('Let remote callers read an artifact the secrets scanner withheld (local operator only; audited)')
    .option('--reason <text>', 'why it may leave the machine (kept in the audit log)')
    .option('--json', 'print JSON')
    .action(async (artifactId: string, o: { reason?: string; json?: boolean }) => {
      requireArtifactId(artifactId);
      if (o.reason !== undefined && o.reason.length > REASON_MAX) throw new SluiceError('BAD_REQUEST', `--reason is limited to ${REASON_MAX} characters.`);
      await withStore(async (store, home) => {
        const r = await releaseArtifact({ store, artifacts: new ArtifactStore(home.artifacts) }, artifactId, o.reason ?? null, operatorActor());
        if (o.json) return printJson(r);
        if (r.released.length > 0) process.stdout.write(`artifact ${artifactId} released (${r.released.join(', ')}): remote reads now return it\n`);
        else process.stdout.write(r.alreadyReleased ? `artifact ${artifactId} was already released\n` : `artifact ${artifactId} holds nothing withheld\n`);
      });
    });
}
