/**
 * One well-known credential shape. Every pattern starts at a boundary (a lookbehind on the token alphabet), so a
 * long run of token characters offers one start, not one per character, and its quantifiers are fixed or bounded:
 * the scan stays linear in the input, whatever the input (no catastrophic backtracking).
 */
export interface SecretRule {
  /** Stable id, named in events, errors and the audit. */
  id: string;
  /** What a reader is told was withheld: `[withheld: <label>]`. */
  label: string;
  /** Global (`g`) pattern of the secret itself. */
  pattern: RegExp;
  /** Text every match contains (lower case when the pattern ignores case): a text without any is skipped at once. */
  hints: readonly string[];
  /** Where the withheld span ends, from the end of the match (a key block runs to its END line). */
  extend?: (text: string, matchEnd: number) => number;
}

/** The characters of most API tokens: a match may not start right after one of them. */
const B = '(?<![A-Za-z0-9_-])';
/** Nor end right before one. */
const E = '(?![A-Za-z0-9_-])';

/** How far the END line of a key block is looked for; without one the block is withheld to the end of the text. */
const KEY_BLOCK_MAX = 64 * 1024;

/** The header and the footer of a private key block (PEM, OpenSSH, PGP). */
export const KEY_BLOCK_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
export const KEY_BLOCK_END = /-----END [A-Z0-9 ]{0,60}-----/g;
/**
 * What follows the header of a real key: a line break (raw or JSON-escaped, a diff's `+` after it, a PGP blank
 * line), then key material or an armor header. Code that names the header (`startsWith('-----BEGIN …')`) is no key.
 */
const KEY_BODY_AHEAD = String.raw`(?=(?:(?:\r?\n|(?:\\r)?\\n)[+ ]?){1,2}(?:[A-Za-z0-9+/]{16}|Proc-Type:|Version:|Comment:))`;

/** A key block runs to its `-----END … PRIVATE KEY…-----` line, or to the end of what is scanned when that is missing. */
export function keyBlockEnd(text: string, from: number): number {
  const window = text.slice(from, from + KEY_BLOCK_MAX);
  const end = new RegExp(KEY_BLOCK_END.source).exec(window);
  return end ? from + end.index + end[0].length : text.length;
}

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'private-key',
    label: 'private key',
    // PEM (PKCS#1, PKCS#8, SEC1, encrypted), OpenSSH and PGP blocks; also a GCP service account's "private_key".
    pattern: new RegExp(KEY_BLOCK_BEGIN.source + KEY_BODY_AHEAD, 'g'),
    hints: ['-----BEGIN '],
    extend: keyBlockEnd,
  },
  { id: 'sluice-token', label: 'Sluice token', hints: ['slc_'], pattern: new RegExp(`${B}slc_[a-z]{3,8}_[0-9A-Za-z]{38}${E}`, 'g') },
  { id: 'aws-access-key-id', label: 'AWS access key id', hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA'], pattern: new RegExp(`${B}(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}${E}`, 'g') },
  {
    id: 'aws-secret-access-key',
    label: 'AWS secret access key',
    hints: ['aws'],
    pattern: /(?<![A-Za-z0-9_])aws_?secret_?access_?key["']?[ \t]{0,5}[:=][ \t]{0,5}["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/gi,
  },
  { id: 'github-token', label: 'GitHub token', hints: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'], pattern: new RegExp(`${B}(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})${E}`, 'g') },
  { id: 'gitlab-token', label: 'GitLab token', hints: ['glpat-'], pattern: new RegExp(`${B}glpat-[A-Za-z0-9_-]{20}${E}`, 'g') },
  { id: 'slack-token', label: 'Slack token', hints: ['xox'], pattern: new RegExp(`${B}xox[abposr]-[A-Za-z0-9-]{10,250}${E}`, 'g') },
  { id: 'slack-webhook', label: 'Slack webhook', hints: ['hooks.slack.com'], pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,20}\/B[A-Z0-9]{6,20}\/[A-Za-z0-9]{20,40}/g },
  { id: 'stripe-live-key', label: 'Stripe live key', hints: ['_live_'], pattern: new RegExp(`${B}(?:sk|rk)_live_[A-Za-z0-9]{24,99}${E}`, 'g') },
  { id: 'anthropic-key', label: 'Anthropic API key', hints: ['sk-ant-'], pattern: new RegExp(`${B}sk-ant-[A-Za-z0-9_-]{32,250}${E}`, 'g') },
  {
    id: 'openai-key',
    label: 'OpenAI API key',
    hints: ['sk-'],
    pattern: new RegExp(`${B}(?:sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})${E}`, 'g'),
  },
  { id: 'google-api-key', label: 'Google API key', hints: ['AIza'], pattern: new RegExp(`${B}AIza[0-9A-Za-z_-]{35}${E}`, 'g') },
  { id: 'npm-token', label: 'npm token', hints: ['npm_'], pattern: new RegExp(`${B}npm_[A-Za-z0-9]{36}${E}`, 'g') },
  { id: 'jwt', label: 'JSON web token', hints: ['eyJ'], pattern: new RegExp(`${B}eyJ[A-Za-z0-9_-]{8,2000}\\.eyJ[A-Za-z0-9_-]{8,4000}\\.[A-Za-z0-9_-]{16,1000}${E}`, 'g') },
  {
    id: 'bearer-token',
    label: 'bearer token',
    hints: ['authorization'],
    pattern: /(?<![A-Za-z0-9_-])authorization["']?[ \t]{0,5}[:=][ \t]{0,5}["']?bearer[ \t]{1,5}[A-Za-z0-9._~+/-]{20,500}=*/gi,
  },
];

/** The rule of an id. */
export function secretRule(id: string): SecretRule | undefined {
  return SECRET_RULES.find((r) => r.id === id);
}
