import type { AdapterKind } from '../executors/executor-types.js';

/** Each agent CLI's model API: the variable that moves it, and the vendor's host when unset. */
const MODEL_APIS: Partial<Record<AdapterKind, { vars: readonly string[]; fallback: readonly string[] }>> = {
  'claude-code': { vars: ['ANTHROPIC_BASE_URL'], fallback: ['api.anthropic.com:443'] },
  codex: { vars: ['OPENAI_BASE_URL'], fallback: ['api.openai.com:443', 'chatgpt.com:443'] },
  gemini: { vars: ['GOOGLE_GEMINI_BASE_URL'], fallback: ['generativelanguage.googleapis.com:443'] },
  aider: { vars: ['OPENAI_API_BASE', 'ANTHROPIC_BASE_URL'], fallback: ['api.openai.com:443', 'api.anthropic.com:443'] },
};

/** The login or config folder each CLI reads from the operator's HOME when HOME is passed through. */
const LOGIN_ENTRIES: Partial<Record<AdapterKind, readonly string[]>> = {
  'claude-code': ['.claude', '.claude.json'],
  codex: ['.codex'],
  gemini: ['.gemini'],
  aider: ['.aider.conf.yml'],
};

function hostPort(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
  } catch {
    return null;
  }
}

/**
 * The hosts an executor reaches when its policy lists none: its model API, from the base-URL variable in the
 * child's environment when set, else the vendor's host; none for `command` and `simulation`.
 */
export function defaultHosts(adapter: AdapterKind, env: Readonly<Record<string, string>>): string[] {
  const api = MODEL_APIS[adapter];
  if (!api) return [];
  const set = api.vars.map((v) => env[v]).filter((v): v is string => !!v).map(hostPort).filter((h): h is string => !!h);
  return set.length > 0 ? set : [...api.fallback];
}

/** The HOME entries an executor sees when its HOME is passed through and its policy lists none. */
export function defaultHomeEntries(adapter: AdapterKind): readonly string[] {
  return LOGIN_ENTRIES[adapter] ?? [];
}
