import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireDebianTool } from './system-tools.js';

/** A systemd unit file as sections of `key → values` (a key may repeat, as Environment= does). */
export type UnitFile = Map<string, Map<string, string[]>>;

/** Parse the unit format strictly: comments, `[Section]` headers, `Key=value` lines; anything else throws. */
export function parseUnitFile(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      if (unit.has(header[1]!)) throw new Error(`line ${i + 1}: section [${header[1]}] twice`);
      section = new Map();
      unit.set(header[1]!, section);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`line ${i + 1}: not a section header or Key=value in a section: ${JSON.stringify(line)}`);
    if (line.endsWith('\\')) throw new Error(`line ${i + 1}: a continuation line`);
    section.set(kv[1]!, [...(section.get(kv[1]!) ?? []), kv[2]!]);
  });
  return unit;
}

/** The one value of `[section] key`; throws when it is missing or repeated. */
export function unitValue(unit: UnitFile, section: string, key: string): string {
  const values = unit.get(section)?.get(key);
  if (values?.length !== 1) throw new Error(`[${section}] ${key}: expected one value, found ${values?.length ?? 0}`);
  return values[0]!;
}

/**
 * Split a double-quoted systemd value into words as systemd does: C escapes in quotes, then `%%` → `%` (specifiers)
 * and, for a command line, `$$` → `$`. Only the quoting Sluice writes is accepted.
 */
export function unitWords(value: string, command: boolean): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"(?: |$)/y;
  while (re.lastIndex < value.length) {
    const m = re.exec(value);
    if (!m) throw new Error(`not a list of double-quoted words at ${re.lastIndex}: ${value}`);
    const unescaped = m[1]!.replace(/\\(.)/g, '$1');
    if (/%[^%]/.test(unescaped.replace(/%%/g, '')) || (command && /\$[^$]/.test(unescaped.replace(/\$\$/g, '')))) throw new Error(`an unescaped specifier or variable in ${m[1]}`);
    const word = unescaped.replace(/%%/g, '%');
    words.push(command ? word.replace(/\$\$/g, '$') : word);
  }
  return words;
}

/** A launchd property list value (the subset agents use). */
export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

/**
 * Parse a launchd plist strictly: the XML declaration, comments and the plist DOCTYPE, then one `<plist>` of
 * dict/array/key/string/integer/true/false; any other markup, an unknown entity or an unclosed element throws.
 */
export function parsePlist(text: string): PlistValue {
  let rest = text.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  if (rest === text) throw new Error('no XML declaration');
  rest = rest.replace(/<!--([\s\S]*?)-->/g, (_, body: string) => {
    if (body.includes('--')) throw new Error('"--" inside a comment');
    return '';
  });
  rest = rest.replace(/^\s*<!DOCTYPE plist PUBLIC "-\/\/Apple\/\/DTD PLIST 1\.0\/\/EN" "http:\/\/www\.apple\.com\/DTDs\/PropertyList-1\.0\.dtd">\s*/, '');
  const tokens = rest.match(/<[^>]*>|[^<]+/g) ?? [];
  let i = 0;
  const text_ = (raw: string): string => {
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(raw)) throw new Error(`an unknown entity in ${raw}`);
    return raw.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
  };
  const skipSpace = () => {
    while (i < tokens.length && /^\s+$/.test(tokens[i]!)) i++;
  };
  const expect = (tag: string) => {
    skipSpace();
    if (tokens[i] !== tag) throw new Error(`expected ${tag}, found ${tokens[i]}`);
    i++;
  };
  const leaf = (tag: string): string => {
    expect(`<${tag}>`);
    const body = tokens[i]?.startsWith('<') ? '' : text_(tokens[i++] ?? '');
    expect(`</${tag}>`);
    return body;
  };
  const value = (): PlistValue => {
    skipSpace();
    const t = tokens[i];
    if (t === '<true/>' || t === '<false/>') return i++, t === '<true/>';
    if (t === '<string>') return leaf('string');
    if (t === '<integer>') {
      const n = leaf('integer');
      if (!/^-?\d+$/.test(n)) throw new Error(`not an integer: ${n}`);
      return Number(n);
    }
    if (t === '<array>') {
      i++;
      const items: PlistValue[] = [];
      for (skipSpace(); tokens[i] !== '</array>'; skipSpace()) items.push(value());
      return i++, items;
    }
    if (t === '<dict>') {
      i++;
      const dict: { [key: string]: PlistValue } = {};
      for (skipSpace(); tokens[i] !== '</dict>'; skipSpace()) {
        const key = leaf('key');
        if (Object.prototype.hasOwnProperty.call(dict, key)) throw new Error(`key ${key} twice`);
        dict[key] = value();
      }
      return i++, dict;
    }
    throw new Error(`unexpected ${t}`);
  };
  expect('<plist version="1.0">');
  const root = value();
  expect('</plist>');
  skipSpace();
  if (i !== tokens.length) throw new Error(`trailing content: ${tokens.slice(i).join('')}`);
  return root;
}

/** `systemd-analyze`, or why the unit checks are skipped (`SLUICE_SKIP_SYSTEMD=1`, refused under CI). */
export const requireSystemdAnalyze = (env: NodeJS.ProcessEnv = process.env): { path: string } | { skip: string } =>
  requireDebianTool({ path: '/usr/bin/systemd-analyze', pkg: 'systemd', skip: 'SYSTEMD' }, env);

/**
 * `systemd-analyze verify` of a unit file, as a user (`--user`) or a system unit, with no running systemd: a
 * private XDG_RUNTIME_DIR and debug logging, whose unit dump shows how systemd read each value. Returns the
 * problems systemd reported about the file (empty: it verified) and the dump.
 */
export function systemdVerify(analyze: string, file: string, mode: 'user' | 'system'): { problems: string[]; dump: string } {
  const runtime = mkdtempSync(join(tmpdir(), 'sluice-sa-'));
  try {
    const r = spawnSync(analyze, ['verify', '--man=no', ...(mode === 'user' ? ['--user'] : []), file], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: runtime, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'debug' },
    });
    const lines = `${r.stdout}\n${r.stderr}`.split('\n');
    const name = file.slice(file.lastIndexOf('/') + 1);
    // "Failed to parse system call" names members of systemd's own @groups that this libseccomp does not know.
    const problems = lines.filter((l) => (l.startsWith(file) || l.startsWith(`${name}:`)) && /ignoring|[Ff]ailed|not executable|[Uu]nknown|[Ii]nvalid|bad-setting/.test(l) && !/Failed to parse system call/.test(l));
    if (r.status !== 0) problems.push(`exit ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return { problems, dump: lines.filter((l) => l.startsWith('\t')).join('\n') };
  } finally {
    rmSync(runtime, { recursive: true, force: true });
  }
}
