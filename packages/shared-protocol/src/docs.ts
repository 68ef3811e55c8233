import { renderEventTableMarkdown } from './events.js';
import { renderFailureTableMarkdown } from './failures.js';
import { renderPlannerGuide } from './planner-guide.js';
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

/** A part of a doc generated from the facts: between `<!-- <marker>:start -->` and `<!-- <marker>:end -->`. */
export interface GeneratedDocSection {
  /** Path from the repository root. */
  file: string;
  marker: string;
  render: () => string;
}

/** Every generated part of the docs; `npm run docs:verbs` rewrites them and a test checks them. */
export const GENERATED_DOC_SECTIONS: readonly GeneratedDocSection[] = [
  { file: 'docs/CONNECTOR.md', marker: 'verbs', render: renderVerbTableMarkdown },
  { file: 'docs/EXECUTORS.md', marker: 'failures', render: renderFailureTableMarkdown },
  { file: 'docs/DATABASE.md', marker: 'events', render: renderEventTableMarkdown },
  { file: 'docs/RELAY.md', marker: 'planner-guide', render: renderPlannerGuide },
];

function markerPattern(marker: string): RegExp {
  return new RegExp(`<!-- ${marker}:start -->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`);
}

/** The generated text found in a doc, or null when its markers are missing. */
export function generatedPartOf(doc: string, marker: string): string | null {
  return markerPattern(marker).exec(doc)?.[1]?.trim() ?? null;
}

/** The doc with its generated part replaced by the current rendering. */
export function withGeneratedPart(doc: string, section: GeneratedDocSection): string {
  return doc.replace(markerPattern(section.marker), `<!-- ${section.marker}:start -->\n${section.render()}\n<!-- ${section.marker}:end -->`);
}
