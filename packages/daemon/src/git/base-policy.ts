import { SluiceError } from '@sluice/shared-protocol';
import { gitText } from './git-command.js';

/** Branches the daemon owns: attempt branches carry unreviewed (or rejected) work. */
const SLUICE_BRANCHES = 'refs/heads/sluice/';
const RUN_BRANCH = /^refs\/heads\/sluice\/run\/(run_[0-9A-HJKMNP-TV-Z]{26})$/;
/** Where operator-made history lives. */
const OPERATOR_NAMESPACES = ['refs/heads/', 'refs/tags/', 'refs/remotes/'];

const HINT =
  'Start a run from a branch or tag the operator made (for example main), or from the branch of an earlier run; ' +
  "Sluice's attempt branches hold changes no one accepted.";

/** True for a `baseRef` spelled in Sluice's own branch namespace, other than a run branch. */
function namesSluiceRef(baseRef: string): boolean {
  const path = baseRef.replace(/^refs\/heads\//, '').replace(/^heads\//, '');
  return /(^|\/)sluice\//.test(path) && !/^sluice\/run\/[^/~^:@]+$/.test(path);
}

/**
 * Refuse a run base no one accepted. A base commit must be reachable from an operator ref (a branch outside
 * `sluice/`, a tag, a remote-tracking branch) or from the head the ledger records for an earlier run; any other
 * commit (an attempt's, rejected or never decided) is `BASE_REF_NOT_ALLOWED`. `runHead(runId)` is the ledger's
 * head of that run in this workspace, or null.
 */
export async function requireAcceptedBase(repo: string, baseRef: string, commit: string, runHead: (runId: string) => string | null): Promise<void> {
  if (namesSluiceRef(baseRef)) throw new SluiceError('BASE_REF_NOT_ALLOWED', `${baseRef} is a Sluice attempt ref. ${HINT}`);
  const refs = await gitText(repo, ['for-each-ref', '--format=%(objectname) %(refname)', `--contains=${commit}`, ...OPERATOR_NAMESPACES]);
  for (const line of refs.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const [tip, ref] = [line.slice(0, space), line.slice(space + 1)];
    if (!ref.startsWith(SLUICE_BRANCHES)) return;
    const run = RUN_BRANCH.exec(ref);
    // A run branch counts only where it still points at the head the ledger accepted.
    if (run && runHead(run[1]!) === tip) return;
  }
  throw new SluiceError('BASE_REF_NOT_ALLOWED', `The base commit ${commit.slice(0, 12)} is not on any operator branch or tag, nor on an accepted run head. ${HINT}`);
}
