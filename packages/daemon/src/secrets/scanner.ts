import { KEY_BLOCK_BEGIN, KEY_BLOCK_END, keyBlockEnd, SECRET_RULES, secretRule, type SecretRule } from './rules.js';

const KEY_RULE = secretRule('private-key')!;

/** Where a secret is in a text (UTF-16 offsets), and which rule found it. The secret itself is never kept. */
export interface SecretMatch {
  rule: string;
  label: string;
  start: number;
  end: number;
}

/** A text and its lower-case twin (made once, for the rules that ignore case). */
class Haystack {
  private lower: string | undefined;
  constructor(readonly text: string) {}

  mayMatch(rule: SecretRule): boolean {
    const text = rule.pattern.ignoreCase ? (this.lower ??= this.text.toLowerCase()) : this.text;
    return rule.hints.some((h) => text.includes(h));
  }
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
  const hay = new Haystack(text);
  return merged(SECRET_RULES.filter((r) => hay.mayMatch(r)).flatMap((r) => matchesOf(r, text)));
}

function merged(matches: SecretMatch[]): SecretMatch[] {
  const all = [...matches].sort((a, b) => a.start - b.start || b.end - a.end);
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
  const hay = new Haystack(text);
  return SECRET_RULES.filter((r) => hay.mayMatch(r) && new RegExp(r.pattern.source, r.pattern.flags).test(text)).map((r) => r.id);
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

/** Lines a key block is followed over; a header whose END line does not come within them is let go. */
const KEY_BLOCK_MAX_LINES = 200;
const HEADER_ENDS_LINE = new RegExp(`${KEY_BLOCK_BEGIN.source}\\s*$`);
const FOOTER = new RegExp(KEY_BLOCK_END.source);

/**
 * Follows output line by line: whether a private key block printed over several lines is open (its header ended
 * a line and its END line has not come yet), so the next batch of lines can be marked as continuing it.
 */
export class KeyBlockTracker {
  private linesLeft = 0;

  get open(): boolean {
    return this.linesLeft > 0;
  }

  see(line: string): void {
    if (HEADER_ENDS_LINE.test(line)) this.linesLeft = KEY_BLOCK_MAX_LINES;
    else if (this.linesLeft > 0) this.linesLeft = FOOTER.test(line) ? 0 : this.linesLeft - 1;
  }
}

/**
 * Log lines with every secret withheld, scanned together so a key block spread over several lines is withheld
 * whole; `continuesKeyBlock` says the first lines belong to a block begun in an earlier batch.
 */
export function redactLines(lines: readonly string[], continuesKeyBlock: boolean): { lines: string[]; rules: string[] } {
  const text = lines.join('\n');
  const continued: SecretMatch[] = continuesKeyBlock ? [{ rule: KEY_RULE.id, label: KEY_RULE.label, start: 0, end: keyBlockEnd(text, 0) }] : [];
  const matches = merged([...continued, ...findSecrets(text)]);
  if (matches.length === 0) return { lines: [...lines], rules: [] };
  const out: string[] = [];
  let lineStart = 0;
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
