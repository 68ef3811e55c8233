// Rewrites the verb allowlist in docs/CONNECTOR.md from the verb table.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderVerbTableMarkdown } from '@sluice/shared-protocol';

const path = new URL('../docs/CONNECTOR.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const next = doc.replace(/<!-- verbs:start -->\n[\s\S]*?\n<!-- verbs:end -->/, `<!-- verbs:start -->\n${renderVerbTableMarkdown()}\n<!-- verbs:end -->`);
writeFileSync(path, next);
console.log(next === doc ? 'docs/CONNECTOR.md already matches the verb table' : 'docs/CONNECTOR.md updated');
