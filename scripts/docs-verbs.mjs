// Rewrites the parts of the docs generated from the facts in shared-protocol (verb table, failure codes, event types).
import { readFileSync, writeFileSync } from 'node:fs';
import { GENERATED_DOC_SECTIONS, withGeneratedPart } from '@sluice/shared-protocol';

for (const section of GENERATED_DOC_SECTIONS) {
  const path = new URL(`../${section.file}`, import.meta.url);
  const doc = readFileSync(path, 'utf8');
  const next = withGeneratedPart(doc, section);
  writeFileSync(path, next);
  console.log(next === doc ? `${section.file} already matches (${section.marker})` : `${section.file} updated (${section.marker})`);
}
