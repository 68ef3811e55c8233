import { SECRET_RULES, type SecretRule } from './rules.js';

/** Where a secret is in a text (UTF-16 offsets), and which rule found it. The secret itself is never kept. */
export interface SecretMatch {
  rule: string;
  label: string;
  start: number;
  end: number;
}

function matchesOf(rule: SecretRule, text: string): SecretMatch[] {
  const out: SecretMatch[] = [];
  const re = new RegExp(rule.pattern.source, rule.pattern.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const end = rule.extend ? rule.extend(text, m.index + m[0].length) : m.index + m[0].length;
    out.push({ rule: rule.id, label: rule.label, start: m.index, end });
    re.lastIndex = end;
  }
  return out;
}

/** Every secret in a text, in order, overlapping matches merged into the first (a token inside a key block). */
export function findSecrets(text: string): SecretMatch[] {
  const all = SECRET_RULES.flatMap((r) => matchesOf(r, text)).sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SecretMatch[] = [];
  for (const m of all) {
    const last = merged.at(-1);
    if (last && m.start < last.end) last.end = Math.max(last.end, m.end);
    else merged.push({ ...m });
  }
  return merged;
}

/** The ids of the rules that match, each once, in rule order. */
export function secretRulesIn(text: string): string[] {
  return SECRET_RULES.filter((r) => new RegExp(r.pattern.source, r.pattern.flags).test(text)).map((r) => r.id);
}

/** The text with each secret replaced by `[withheld: <label>]`, and the rules that matched. */
export function redactSecrets(text: string): { text: string; rules: string[] } {
  const matches = findSecrets(text);
  if (matches.length === 0) return { text, rules: [] };
  let out = '';
  let at = 0;
  for (const m of matches) {
    out += `${text.slice(at, m.start)}[withheld: ${m.label}]`;
    at = m.end;
  }
  return { text: out + text.slice(at), rules: [...new Set(matches.map((m) => m.rule))] };
}

/** Bytes scanned at a time, and how much each window overlaps the previous one (longer than any rule's match start). */
const WINDOW_BYTES = 1024 * 1024;
const OVERLAP_BYTES = 4096;

/**
 * The rules that match anywhere in a blob read window by window (so a blob of any size is scanned in bounded
 * memory). Bytes are read as latin1: every rule is ASCII, and no multi-byte character can be cut at a window edge.
 */
export async function scanBlob(size: number, read: (offset: number, length: number) => Promise<Buffer>): Promise<string[]> {
  const found = new Set<string>();
  for (let offset = 0; offset < size; offset += WINDOW_BYTES - OVERLAP_BYTES) {
    const chunk = await read(offset, WINDOW_BYTES);
    for (const id of secretRulesIn(chunk.toString('latin1'))) found.add(id);
    if (offset + chunk.length >= size) break;
  }
  return SECRET_RULES.map((r) => r.id).filter((id) => found.has(id));
}
