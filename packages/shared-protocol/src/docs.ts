import { VERBS } from './verbs.js';
import type { VerbSpec } from './verbs.js';

function hintText(v: VerbSpec): string {
  const h: string[] = [];
  if (v.hints.readOnly) h.push('read-only');
  if (v.hints.destructive) h.push('destructive');
  if (v.hints.idempotent) h.push('idempotent');
  return h.join(', ') || '-';
}

/** The allowlist as a Markdown table; docs/CONNECTOR.md must contain exactly this (a test checks). */
export function renderVerbTableMarkdown(): string {
  const rows = Object.values(VERBS).map((v: VerbSpec) => `| \`${v.name}\` | \`${v.mcpName}\` | \`${v.scope}\` | ${hintText(v)} | ${v.touches} |`);
  return ['| verb | MCP tool | scope | hints | what it can touch |', '|---|---|---|---|---|', ...rows].join('\n');
}
