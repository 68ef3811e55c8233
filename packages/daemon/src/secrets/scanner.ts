import { KEY_BLOCK_BEGIN, KEY_BLOCK_END, SECRET_RULES, type SecretRule } from './rules.js';

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

/** Stands for the header of a key block begun in an earlier text (a log batch that continues one). */
const CONTINUED_BLOCK = '-----BEGIN CONTINUED PRIVATE KEY-----\n';

/** Whether a key block is still open after a line, given whether one was open before it. */
export function keyBlockOpenAfter(open: boolean, line: string): boolean {
  const lastBegin = [...line.matchAll(KEY_BLOCK_BEGIN)].at(-1);
  const lastEnd = [...line.matchAll(KEY_BLOCK_END)].at(-1);
  if (lastBegin && (!lastEnd || lastEnd.index < lastBegin.index)) return true;
  return open && !lastEnd;
}

/**
 * Log lines with every secret withheld, scanned together so a key block spread over several lines is withheld
 * whole; `continuesKeyBlock` says the first lines belong to a block begun in an earlier batch.
 */
export function redactLines(lines: readonly string[], continuesKeyBlock: boolean): { lines: string[]; rules: string[] } {
  const prefix = continuesKeyBlock ? CONTINUED_BLOCK : '';
  const text = prefix + lines.join('\n');
  const matches = findSecrets(text);
  if (matches.length === 0) return { lines: [...lines], rules: [] };
  const out: string[] = [];
  let lineStart = prefix.length;
  for (const line of lines) {
    const lineEnd = lineStart + line.length;
    let kept = '';
    let at = lineStart;
    for (const m of matches) {
      if (m.end <= lineStart || m.start >= lineEnd) continue;
      kept += `${text.slice(at, Math.max(at, m.start))}[withheld: ${m.label}]`;
      at = Math.min(m.end, lineEnd);
    }
    out.push(kept + text.slice(at, lineEnd));
    lineStart = lineEnd + 1;
  }
  return { lines: out, rules: [...new Set(matches.map((m) => m.rule))] };
}
