import { ManifestError, MANIFEST_FILE, readReleaseInfo, verifyInstalledManifest } from './release-info.js';
import type { ManifestVerification } from './release-info.js';

/** The `-V, --version` line of each program's --help. */
export const VERSION_OPTION_HELP = `print the version; with --json: name, version, commit, manifest hash, packaged, node; with --verify: re-hash the installed files against ${MANIFEST_FILE}`;

const VERSION_FLAGS = new Set(['-V', '--version']);
const MODIFIERS = new Set(['--json', '--verify']);

export interface VersionAnswer {
  readonly text: string;
  readonly exitCode: number;
}

function verificationText(v: ManifestVerification): string {
  const lines = [`${v.ok ? 'ok' : 'MISMATCH'}: ${v.checked} files listed in ${v.root}/${MANIFEST_FILE} (manifest sha256 ${v.manifestSha256})`];
  for (const [label, paths] of [['missing', v.missing], ['changed', v.changed], ['extra', v.extra]] as const) {
    for (const p of paths) lines.push(`  ${label}: ${p}`);
  }
  return `${lines.join('\n')}\n`;
}

function verifyAnswer(json: boolean): VersionAnswer {
  try {
    const v = verifyInstalledManifest();
    return { text: json ? `${JSON.stringify(v, null, 2)}\n` : verificationText(v), exitCode: v.ok ? 0 : 1 };
  } catch (e) {
    const message = e instanceof ManifestError ? e.message : `cannot verify: ${(e as Error).message}`;
    return { text: json ? `${JSON.stringify({ ok: false, error: message }, null, 2)}\n` : `${message}\n`, exitCode: 1 };
  }
}

/**
 * Answers `--version`, `--version --json` and `--version --verify [--json]` before commander sees them (its own
 * --version prints and exits at once, so it cannot take modifiers). Returns null for any other command line.
 */
export function answerVersionFlags(program: string, argv: readonly string[]): VersionAnswer | null {
  if (!argv.some((a) => VERSION_FLAGS.has(a)) || !argv.every((a) => VERSION_FLAGS.has(a) || MODIFIERS.has(a))) return null;
  const json = argv.includes('--json');
  if (argv.includes('--verify')) return verifyAnswer(json);
  const info = readReleaseInfo();
  if (!json) return { text: `${info.version}\n`, exitCode: 0 };
  return { text: `${JSON.stringify({ ...info, name: program }, null, 2)}\n`, exitCode: 0 };
}
