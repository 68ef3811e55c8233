import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SECRET_RULES } from '../src/secrets/rules.js';
import { findSecrets, KeyBlockTracker, redactSecrets, scanBlob, secretRulesIn } from '../src/secrets/scanner.js';

// Fixtures are built at run time, so no file of the repository holds a credential-shaped string.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function body(n: number, alphabet = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[(i * 7 + 3) % alphabet.length];
  return s;
}
const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
const openssh = ['-----BEGIN OPENSSH' + ' PRIVATE KEY-----', body(70), body(70), '-----END OPENSSH PRIVATE KEY-----'].join('\n');

/** One sample per rule, in a sentence, as an agent or a diff would show it. */
const SAMPLES: Record<string, string> = {
  'private-key': `+${pkcs8.replaceAll('\n', '\n+')}`,
  'sluice-token': `token=slc_${'pat'}_${body(38)}`,
  'aws-access-key-id': `aws_access_key_id = ${'AKIA'}${body(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
  'aws-secret-access-key': `AWS_SECRET_ACCESS_KEY=${body(40, `${ALNUM}/+`)}`,
  'github-token': `git clone https://x:${'ghp'}_${body(36)}@github.com/o/r`,
  'gitlab-token': `GITLAB=${'glpat'}-${body(20)}`,
  'slack-token': `SLACK=${'xoxb'}-1234567890-${body(24)}`,
  'slack-webhook': `curl https://hooks.slack.com/services/T${body(8, 'ABC123')}/B${body(8, 'XYZ789')}/${body(24)}`,
  'stripe-live-key': `stripe.key = "${'sk'}_live_${body(30)}"`,
  'anthropic-key': `ANTHROPIC_API_KEY=${'sk-ant'}-api03-${body(90, `${ALNUM}_-`)}`,
  'openai-key': `OPENAI_API_KEY=${'sk-proj'}-${body(60, `${ALNUM}_-`)}`,
  'google-api-key': `key=${'AIza'}${body(35)}`,
  'npm-token': `//registry.npmjs.org/:_authToken=${'npm'}_${body(36)}`,
  jwt: `cookie: ${'eyJ'}hbGciOiJIUzI1NiJ9.${'eyJ'}zdWIiOiIxMjM0NTY3ODkwIn0.${body(43, `${ALNUM}_-`)}`,
  'bearer-token': `Authorization: Bearer ${body(40)}`,
};

/** Text that looks technical but holds no credential: none of it may match. */
const CLEAN = [
  'commit 3a3c85a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  '550e8400-e29b-41d4-a716-446655440000',
  'att_01HZX3K8M9Q2R4T6V8W0Y2A4C6 run_01HZX3K8M9Q2R4T6V8W0Y2A4C6',
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----',
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----',
  'pip install scikit-learn; import sk-learn-compat-shim-for-old-projects',
  'The planner token starts with slc_pat_ and the enrollment code with slc_enr_.',
  'headers: { authorization: `Bearer ${token}` }',
  'AKIAIOSFODNN7 is too short, and so is ghp_abc',
  'const eyJ = 1; eyJhbGciOi.short',
  'aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVs',
  'xoxb- is the Slack bot prefix',
  'sk_test_' + body(30) + ' is a Stripe test key',
  'my-package_with-a-long-name-AIzaNotAKey',
  'base64 of a sha512: ' + body(88, `${ALNUM}+/`),
  "if (pem.startsWith('-----BEGIN PRIVATE KEY-----')) return 'pkcs8';",
  "const pem = '-----BEGIN PRIVATE KEY-----\\n' + body + '\\n-----END PRIVATE KEY-----';",
  '-----BEGIN OPENSSH PRIVATE KEY-----\n<your key here>\n-----END OPENSSH PRIVATE KEY-----',
];

describe('secret rules', () => {
  it('has a sample for every rule, and each sample is found by its rule', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(SECRET_RULES.map((r) => r.id).sort());
    for (const [id, text] of Object.entries(SAMPLES)) expect(secretRulesIn(text), id).toContain(id);
  });

  it.each(Object.keys(SAMPLES))('redacts %s, leaving the text around it', (id) => {
    const text = `before ${SAMPLES[id]} after`;
    const label = SECRET_RULES.find((r) => r.id === id)!.label;
    const out = redactSecrets(text);
    expect(out.rules).toContain(id);
    expect(out.text).toContain(`[withheld: ${label}]`);
    expect(out.text.startsWith('before ')).toBe(true);
    expect(out.text.endsWith(' after')).toBe(true);
    expect(findSecrets(out.text)).toEqual([]);
  });

  it('withholds a whole key block to its END line, in every common format', () => {
    for (const key of [pkcs8, rsa, openssh]) {
      const out = redactSecrets(`a\n${key.trim()}\nb`);
      expect(out).toEqual({ text: 'a\n[withheld: private key]\nb', rules: ['private-key'] });
    }
  });

  it('withholds a key block without its END line to the end of the text', () => {
    const cut = pkcs8.split('\n').slice(0, 2).join('\n');
    expect(redactSecrets(`x ${cut}`).text).toBe('x [withheld: private key]');
  });

  it('finds a key block in a diff, raw, with CRLF, JSON-escaped, and an encrypted PKCS#1 key', () => {
    const lines = pkcs8.trim().split('\n');
    const encrypted = ['-----BEGIN RSA' + ' PRIVATE KEY-----', 'Proc-Type: 4,ENCRYPTED', 'DEK-Info: AES-128-CBC,0011', '', body(64)].join('\n');
    for (const text of [`+${lines.join('\n+')}`, lines.join('\r\n'), JSON.stringify(pkcs8), encrypted]) {
      expect(secretRulesIn(text), text.slice(0, 60)).toEqual(['private-key']);
    }
  });

  it('finds a key inside a GCP service-account JSON, escaped newlines and all', () => {
    const json = JSON.stringify({ type: 'service_account', private_key_id: body(40, '0123456789abcdef'), private_key: pkcs8 });
    expect(secretRulesIn(json)).toEqual(['private-key']);
    expect(redactSecrets(json).text).not.toContain(pkcs8.split('\n')[1]!);
  });

  it.each(CLEAN.map((t, i) => [i, t] as const))('finds nothing in clean text #%i', (_i, text) => {
    expect(findSecrets(text)).toEqual([]);
  });
});

describe('scan time on adversarial input', () => {
  const MiB = 1024 * 1024;
  // Near-misses of every rule, repeated: each offers a prefix that must fail late.
  const inputs: Record<string, string> = {
    'token characters': 'a'.repeat(MiB),
    'repeated prefixes': 'eyJsk-ant-sk-proj-xoxb-ghp_AIzaslc_pat_'.repeat(MiB / 38),
    'jwt near-misses': `eyJ${'a'.repeat(30)}.`.repeat(MiB / 34),
    'begin lines': '-----BEGIN A B C '.repeat(MiB / 17),
    'key headers without a key': '-----BEGIN PRIVATE KEY-----\n\n'.repeat(MiB / 29),
    'authorization without a token': 'authorization: bearer '.repeat(MiB / 22),
    'aws context without a key': 'aws_secret_access_key = '.repeat(MiB / 24),
    'open key block': `${'-----BEGIN RSA' + ' PRIVATE KEY-----'}\n${'A'.repeat(MiB)}`,
  };

  it.each(Object.keys(inputs))('scans 1 MiB of %s and returns', (name) => {
    // The bound is what the suite's timeout enforces; a backtracking pattern takes minutes here.
    const text = inputs[name]!;
    expect(text.length).toBeGreaterThan(MiB - 64);
    const out = redactSecrets(text);
    expect(out.text.length).toBeLessThanOrEqual(text.length);
  });
});

describe('scanBlob', () => {
  it('finds a secret that straddles a window edge and one in the last window', async () => {
    const token = `${'ghp'}_${body(36)}`;
    const edge = 1024 * 1024 - 10;
    const blob = Buffer.alloc(3 * 1024 * 1024, 0x20);
    blob.write(token, edge, 'latin1');
    blob.write(`${'AKIA'}${body(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`, blob.length - 30, 'latin1');
    const read = async (offset: number, length: number) => blob.subarray(offset, offset + length);
    expect(await scanBlob(blob.length, read)).toEqual(['aws-access-key-id', 'github-token']);
  });

  it('finds nothing in an empty or clean blob', async () => {
    expect(await scanBlob(0, async () => Buffer.alloc(0))).toEqual([]);
    const clean = Buffer.from(CLEAN.join('\n'));
    expect(await scanBlob(clean.length, async (o, l) => clean.subarray(o, o + l))).toEqual([]);
  });
});

describe('KeyBlockTracker', () => {
  const header = '-----BEGIN OPENSSH' + ' PRIVATE KEY-----';
  it('opens on a header that ends its line and closes on the END line', () => {
    const t = new KeyBlockTracker();
    t.see(`+${header}`);
    expect(t.open).toBe(true);
    t.see(body(70));
    expect(t.open).toBe(true);
    t.see('-----END OPENSSH PRIVATE KEY-----');
    expect(t.open).toBe(false);
  });

  it('stays closed for code that names the header, and lets go of a header without an END line', () => {
    const t = new KeyBlockTracker();
    t.see(`if (pem.startsWith('${header}')) {`);
    expect(t.open).toBe(false);
    t.see(header);
    for (let i = 0; i < 200; i++) t.see('x');
    expect(t.open).toBe(false);
  });
});
