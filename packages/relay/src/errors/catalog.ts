import { ERROR_CATALOG } from '@sluice/shared-protocol';
import type { CatalogEntry } from '@sluice/shared-protocol';

/** The relay's one error catalog: the shared wire catalog (the relay needs no local codes). */
export const RELAY_ERROR_CATALOG: Readonly<Record<string, CatalogEntry>> = ERROR_CATALOG;

function retryCell(e: CatalogEntry): string {
  if (e.retryable !== true) return 'no';
  return e.retryAfterMs === undefined ? 'yes' : `yes, after ${e.retryAfterMs} ms`;
}

/** docs/errors.md, generated from the catalog; a test keeps the file equal to this. */
export function renderErrorsMarkdown(): string {
  const rows = Object.entries(RELAY_ERROR_CATALOG).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.hint} | ${retryCell(e)} |`);
  return [
    '# Relay errors',
    '',
    'Every error the relay answers is a JSON body `{"code", "message", "hint", "retryable"}`, plus `retryAfterMs` when',
    'the same call may work later (the default below, or the precise wait for `RATE_LIMITED`), `allowed` (at most 64',
    'values the refused field may take, e.g. the executors of the workspace for `EXECUTOR_NOT_ALLOWED` or the candidate',
    'attempts for `ATTEMPT_CHOICE_REQUIRED`) and `details` (field problems for `INVALID_INPUT`), with the HTTP status',
    'below. A hint passed on from the daemon may be more precise than the one listed here. MCP tool calls answer a',
    'refused call with an `isError: true` result whose text block is the same JSON body and whose `_meta` carries it',
    'under `dev.sluice/error` (docs/RELAY.md). Connector handshake refusals use the same body on the refused upgrade',
    'response. This file is generated from the catalog (`renderErrorsMarkdown()` in',
    '`packages/relay/src/errors/catalog.ts`); a test fails when they differ.',
    '',
    '| code | HTTP status | message | hint | retryable |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
