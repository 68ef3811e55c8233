import { ERROR_CATALOG } from '@sluice/shared-protocol';

/** The relay's one error catalog: the shared wire catalog (the relay needs no local codes). */
export const RELAY_ERROR_CATALOG: Readonly<Record<string, { status: number; message: string }>> = ERROR_CATALOG;

/** docs/errors.md, generated from the catalog; a test keeps the file equal to this. */
export function renderErrorsMarkdown(): string {
  const rows = Object.entries(RELAY_ERROR_CATALOG).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} |`);
  return [
    '# Relay errors',
    '',
    'Every error the relay answers is `{"code": "...", "message": "..."}` (plus `details` for `INVALID_INPUT`), with the',
    'HTTP status below. MCP tool calls carry the same code in an `isError: true` result whose text starts with the code.',
    'Connector handshake refusals use the same body on the refused upgrade response. This file is generated from the',
    'catalog (`renderErrorsMarkdown()` in `packages/relay/src/errors/catalog.ts`); a test fails when they differ.',
    '',
    '| code | HTTP status | message |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
