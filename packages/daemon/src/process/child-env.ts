/** Variables every child gets when the daemon has them. TERM is left out on purpose: children are not terminals. */
export const BASE_ENV_ALLOWLIST = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'USER', 'LOGNAME', 'TMPDIR', 'TZ'] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Build a child environment from an allowlist: the base names, plus the names an executor or validation
 * passes through, plus values the daemon sets itself. Nothing else of the daemon's environment leaks.
 */
export function buildChildEnv(
  passThrough: readonly string[] = [],
  extra: Readonly<Record<string, string>> = {},
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV_ALLOWLIST, ...passThrough]) {
    if (!ENV_NAME.test(name)) continue;
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [k, v] of Object.entries(extra)) if (ENV_NAME.test(k)) env[k] = v;
  return env;
}
