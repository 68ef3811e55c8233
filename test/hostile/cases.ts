// The hostile-input tables. Pure data (no servers), so the count in docs/SECURITY.md can be checked against them.
import { LIMITS, VERB_NAMES, VERBS } from '@sluice/shared-protocol';
import type { ErrorCode, VerbName } from '@sluice/shared-protocol';

/** Ids that look right but belong to nobody. */
export const FAKE = {
  runId: 'run_01JAAAAAAAAAAAAAAAAAAAAAAA',
  stepId: 'stp_01JAAAAAAAAAAAAAAAAAAAAAAA',
  attemptId: 'att_01JAAAAAAAAAAAAAAAAAAAAAAA',
  gateId: 'gat_01JAAAAAAAAAAAAAAAAAAAAAAA',
  instanceId: 'ins_01JAAAAAAAAAAAAAAAAAAAAAAA',
  digest: `sha256:${'0'.repeat(64)}`,
};

/** A schema-valid input for each verb (ids are filled in by the suite when it has real ones). */
export function validInput(verb: VerbName, ids: Partial<typeof FAKE> = {}): Record<string, unknown> {
  const id = { ...FAKE, ...ids };
  switch (verb) {
    case 'instances.list':
    case 'runs.list':
      return {};
    case 'runs.open':
      return { workspaceId: 'web', title: 'hostile' };
    case 'workspaces.describe':
      return { workspaceId: 'web' };
    case 'runs.get':
    case 'runs.close':
    case 'runs.abort':
    case 'runs.diff':
    case 'gates.list':
    case 'artifacts.list':
    case 'events.list':
      return { runId: id.runId };
    case 'steps.dispatch':
      return { runId: id.runId, executor: 'sim', task: 'write a.txt\nhello' };
    case 'steps.get':
    case 'steps.retry':
    case 'steps.cancel':
    case 'steps.wait':
      return { stepId: id.stepId };
    case 'attempts.get':
    case 'attempts.cancel':
      return { attemptId: id.attemptId };
    case 'gates.approve':
      return { gateId: id.gateId };
    case 'gates.reject':
      return { gateId: id.gateId, reason: 'no' };
    case 'artifacts.get':
      return { runId: id.runId, digest: id.digest };
    default:
      throw new Error(`no valid input for ${String(verb)}`);
  }
}

type FieldKind = 'id' | 'name' | 'ref' | 'digest' | 'text' | 'int' | 'bool' | 'enum' | 'names' | 'key' | 'pageCursor';

const FIELD_KINDS: Record<string, FieldKind> = {
  runId: 'id',
  stepId: 'id',
  attemptId: 'id',
  gateId: 'id',
  instanceId: 'id',
  workspaceId: 'name',
  executor: 'name',
  baseRef: 'ref',
  digest: 'digest',
  title: 'text',
  task: 'text',
  reason: 'text',
  limit: 'int',
  waitMs: 'int',
  timeoutMs: 'int',
  attempts: 'int',
  offset: 'int',
  length: 'int',
  after: 'int',
  approval: 'bool',
  state: 'enum',
  status: 'enum',
  validations: 'names',
  idempotencyKey: 'key',
  cursor: 'pageCursor',
};

const RLO = '\u202E';
const LRI = '\u2066';

/** Values no field of any kind accepts: wrong JSON types. */
const WRONG_TYPES: Array<[string, unknown]> = [
  ['null', null],
  ['object', { a: 1 }],
  ['array', ['x']],
  ['proto-object', JSON.parse('{"__proto__":{"polluted":true}}')],
];

/** Strings that strict id/name/ref/digest fields refuse: traversal, absolute paths, unicode tricks, SQL, option injection. */
const HOSTILE_STRINGS: Array<[string, string]> = [
  ['empty', ''],
  ['dot-dot', '..'],
  ['traversal', '../../etc/passwd'],
  ['traversal-backslash', '..\\..\\windows'],
  ['absolute-path', '/etc/passwd'],
  ['home-path', '~/.ssh/id_ed25519'],
  ['nul-byte', 'web\u0000'],
  ['bidi-override', `web${RLO}gpj.exe`],
  ['bidi-isolate', `${LRI}web`],
  ['fullwidth', 'ｗｅｂ'],
  ['homoglyph-cyrillic', 'wеb'],
  ['zero-width', 'w\u200Beb'],
  ['sql-or', "web' OR '1'='1"],
  ['sql-drop', "x'; DROP TABLE runs;--"],
  ['option-injection', '--upload-pack=touch /tmp/pwned'],
  ['proto-name', '__proto__'],
  ['constructor-name', 'constructor'],
  ['newline-injection', 'web\nx-evil: 1'],
  ['url', 'http://evil.example/'],
  ['very-long', 'a'.repeat(5000)],
];

/** Free text: the only refusals are control characters, bidi overrides and size. */
const HOSTILE_TEXT: Array<[string, string]> = [
  ['nul-byte', 'fix\u0000it'],
  ['bidi-override', `approve ${RLO}evil${RLO}`],
  ['bidi-isolate', `ok ${LRI}hidden`],
  ['escape-seq', 'ok \u001b[2J'],
  ['del-char', 'ok\u007f'],
  ['oversized', 'x'.repeat(LIMITS.taskBytes + 1)],
];

const HOSTILE_INTS: Array<[string, unknown]> = [
  ['negative', -1],
  ['float', 1.5],
  ['huge', 1e300],
  ['string-number', '10'],
  ['boolean', true],
];

const HOSTILE_BOOLS: Array<[string, unknown]> = [
  ['string-true', 'true'],
  ['number-one', 1],
];

const HOSTILE_ENUMS: Array<[string, unknown]> = [
  ['uppercase', 'OPEN'],
  ['sql', "open' OR 1=1--"],
  ['proto', '__proto__'],
  ['number', 0],
];

const HOSTILE_NAME_ARRAYS: Array<[string, unknown]> = [
  ['not-array', 'test'],
  ['traversal-entry', ['../../bin/sh']],
  ['bidi-entry', [`te${RLO}st`]],
  ['too-many', Array.from({ length: LIMITS.validationsPerStep + 1 }, (_, i) => `v${i}`)],
  ['nested', [['test']]],
];

function valuesFor(kind: FieldKind): Array<[string, unknown]> {
  switch (kind) {
    case 'id':
    case 'name':
    case 'ref':
    case 'digest':
    case 'key':
    case 'pageCursor':
      return [...HOSTILE_STRINGS.filter(([label]) => !(kind === 'ref' && label === 'url')), ['number', 42]];
    case 'text':
      return [...HOSTILE_TEXT, ['number', 42]];
    case 'int':
      return HOSTILE_INTS;
    case 'bool':
      return HOSTILE_BOOLS;
    case 'enum':
      return HOSTILE_ENUMS;
    case 'names':
      return HOSTILE_NAME_ARRAYS;
  }
}

export interface BodyCase {
  verb: VerbName;
  label: string;
  /** The JSON value sent as the body. */
  body: unknown;
}

/** Field-level hostile inputs: every field of every verb input fed the values its kind must refuse. */
export function fieldCases(verbs: readonly VerbName[] = VERB_NAMES): BodyCase[] {
  const out: BodyCase[] = [];
  for (const verb of verbs) {
    const shape = (VERBS[verb].input as unknown as { shape: Record<string, unknown> }).shape;
    const base = validInput(verb);
    for (const field of Object.keys(shape)) {
      const kind = FIELD_KINDS[field];
      if (!kind) throw new Error(`no field kind for ${verb}.${field}`);
      for (const [label, value] of [...WRONG_TYPES, ...valuesFor(kind)]) {
        // The ref pattern allows a few of these names ("constructor" is a fine branch name); they are not hostile there.
        // "constructor" is a well-formed name, ref and cursor: the lookup tables cover it (it must find nothing).
        if (label === 'constructor-name' && kind !== 'id' && kind !== 'digest') continue;
        if (label === 'proto-name' && (kind === 'ref' || kind === 'pageCursor')) continue;
        if (label === 'array' && kind === 'names') continue;
        // Idempotency keys are opaque tokens: "..", "__proto__" and "constructor" are fine keys there.
        if (kind === 'key' && ['dot-dot', 'proto-name', 'constructor-name'].includes(label)) continue;
        out.push({ verb, label: `${field}=${label}`, body: { ...base, [field]: value } });
      }
    }
  }
  return out;
}

/** Whole-body hostile shapes, for every verb. */
export function shapeCases(verbs: readonly VerbName[] = VERB_NAMES): BodyCase[] {
  const out: BodyCase[] = [];
  for (const verb of verbs) {
    const base = validInput(verb);
    const shapes: Array<[string, unknown]> = [
      ['array-body', [base]],
      ['string-body', 'runs'],
      ['number-body', 7],
      ['null-body', null],
      ['unknown-key', { ...base, extra: 1 }],
      ['proto-key', JSON.parse(`{"__proto__":{"admin":true},${JSON.stringify(base).slice(1, -1) || '"x":1'}}`)],
      ['constructor-prototype', { ...base, constructor: { prototype: { admin: true } } }],
    ];
    for (const [label, body] of shapes) out.push({ verb, label, body });
  }
  return out;
}

export interface RawCase {
  verb: VerbName;
  label: string;
  contentType: string;
  payload: string;
  status: number;
  code: string;
}

/** Raw bodies below the JSON layer: malformed JSON, wrong media types, oversized. */
export function rawCases(
  bodyLimit: number,
  verbs: readonly VerbName[] = VERB_NAMES,
  textPlain: { status: number; code: string } = { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
): RawCase[] {
  const out: RawCase[] = [];
  const malformed: Array<[string, string]> = [
    ['truncated', '{"runId":'],
    ['trailing-comma', '{"a":1,}'],
    ['single-quotes', "{'a':1}"],
    ['bare-word', 'nul'],
    ['nul-byte', '\u0000'],
    ['lone-surrogate-escape', '{"a":"\\ud800'],
    ['deep-nesting', '['.repeat(5000)],
  ];
  for (const verb of verbs) {
    for (const [label, payload] of malformed) out.push({ verb, label: `malformed-${label}`, contentType: 'application/json', payload, status: 400, code: 'MALFORMED_JSON' });
    const deep = (inner: string) => `{"runId":${'['.repeat(10_000)}${inner}${']'.repeat(10_000)}}`;
    out.push({ verb, label: 'deep-nesting-valid', contentType: 'application/json', payload: deep('1'), status: 400, code: 'INVALID_INPUT' });
    out.push({ verb, label: 'deep-nesting-proto', contentType: 'application/json', payload: deep('{"__proto__":{"x":1}}'), status: 400, code: 'MALFORMED_JSON' });
    out.push({ verb, label: 'text-plain', contentType: 'text/plain', payload: JSON.stringify(validInput(verb)), ...textPlain });
    out.push({ verb, label: 'form-urlencoded', contentType: 'application/x-www-form-urlencoded', payload: 'runId=x', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    out.push({
      verb,
      label: 'oversized',
      contentType: 'application/json',
      payload: JSON.stringify({ ...validInput(verb), pad: 'x'.repeat(bodyLimit + 16) }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
  }
  return out;
}

/** Verb names that are not verbs: prototype keys, traversal, case tricks. */
export const BAD_VERB_NAMES: string[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'runs.open.',
  'RUNS.OPEN',
  'runs%2Fopen',
  'runs..open',
  '..%2F..%2Fstatus',
  'runs.delete',
  'ｒｕｎｓ.open',
  'admin.exec',
];

/** Host headers a DNS-rebinding page would send to a loopback server. */
export function rebindingHosts(port: number): string[] {
  return ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`, `0x7f000001:${port}`, `2130706433:${port}`, '127.0.0.1', ''];
}

/** Browser origins that are not the server's own. */
export function foreignOrigins(port: number): string[] {
  return ['http://evil.example', 'null', `http://127.0.0.1:${port + 1}`, `https://127.0.0.1:${port}`, `http://localhost.evil.example:${port}`, 'file://'];
}

/** The daemon serves every verb but `instances.list` (the relay answers that one). */
export const DAEMON_VERBS = VERB_NAMES.filter((v) => v !== 'instances.list');

/**
 * Over /mcp, one value of each family per field (each MCP POST builds a server); the full tables run over /api/v2,
 * which shares the dispatcher with /mcp. The SDK client serializes arguments itself, so a JSON "__proto__" key
 * cannot survive it: those cases are raw-only.
 */
export function mcpToolCases(): BodyCase[] {
  const families = /=(null|array|traversal|absolute-path|nul-byte|bidi-override|fullwidth|homoglyph-cyrillic|sql-drop|oversized|negative|float|string-true|uppercase|too-many)$/;
  return [...fieldCases().filter((c) => families.test(c.label)), ...shapeCases().filter((c) => c.body !== null && typeof c.body === 'object' && !Array.isArray(c.body))].filter(
    (c) => !c.label.endsWith('proto-object') && c.label !== 'proto-key',
  );
}

/** Schema-failing request frames a compromised relay sends the connector. */
export function connectorFieldCases(): BodyCase[] {
  return fieldCases(['runs.open', 'steps.dispatch', 'artifacts.get', 'gates.reject']).filter((c) => !c.label.endsWith('proto-object'));
}

/** A request the HTTP layer refuses, as raw bytes, and the catalog code of each answer the server sends back. */
export interface FramingCase {
  name: string;
  bytes: string;
  expect: ErrorCode[];
}

/** Framing, URL and parser faults; the same table runs against the daemon and the relay. */
export function framingCases(t: { host: string; postPath: string; auth: string }): FramingCase[] {
  const head = (method: string, path: string, extra = '') => `${method} ${path} HTTP/1.1\r\nhost: ${t.host}\r\nauthorization: ${t.auth}\r\n${extra}`;
  const post = (extra: string, body: string) => `${head('POST', t.postPath, `content-type: application/json\r\n${extra}`)}\r\n${body}`;
  return [
    // The parser reads one byte of body, then fails on the rest as the next request: one answer, for the whole connection.
    { name: 'Content-Length shorter than the body', bytes: post('content-length: 1\r\n', '{"a":1}'), expect: ['BAD_REQUEST'] },
    { name: 'Content-Length not a number', bytes: post('content-length: abc\r\n', '{}'), expect: ['BAD_REQUEST'] },
    { name: 'two different Content-Lengths', bytes: post('content-length: 2\r\ncontent-length: 3\r\n', '{}'), expect: ['BAD_REQUEST'] },
    { name: 'Content-Length and chunked together', bytes: post('content-length: 2\r\ntransfer-encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'), expect: ['BAD_REQUEST'] },
    { name: 'bad chunk size', bytes: post('transfer-encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'), expect: ['BAD_REQUEST'] },
    { name: 'Content-Length longer than the body that comes', bytes: post('content-length: 100\r\n', '{}'), expect: ['REQUEST_TIMEOUT'] },
    { name: 'malformed JSON', bytes: post('content-length: 9\r\nconnection: close\r\n', '{"a":1,,}'), expect: ['MALFORMED_JSON'] },
    { name: 'bad percent-encoding in the URL', bytes: `${head('GET', '/%zz', 'connection: close\r\n')}\r\n`, expect: ['BAD_REQUEST'] },
    { name: 'an unknown route', bytes: `${head('GET', '/no/such/route', 'connection: close\r\n')}\r\n`, expect: ['NOT_FOUND'] },
    { name: 'not HTTP at all', bytes: 'HELLO THERE\r\n\r\n', expect: ['BAD_REQUEST'] },
    { name: 'a header line without a colon', bytes: `${head('GET', '/healthz', 'no colon here\r\n')}\r\n`, expect: ['BAD_REQUEST'] },
    { name: 'headers over the size limit', bytes: `${head('GET', '/healthz', `x-big: ${'a'.repeat(20_000)}\r\n`)}\r\n`, expect: ['HEADERS_TOO_LARGE'] },
  ];
}

/**
 * A Content-Length that disagrees with the body as the framework itself sees it (through `inject`, where no HTTP
 * parser cuts the body to the header first): the body parser refuses it.
 */
export const INJECTED_LENGTH_CASES: ReadonlyArray<{ contentLength: string; payload: string }> = [
  { contentLength: '1', payload: '{"a":1}' },
  { contentLength: '100', payload: '{"a":1}' },
];

/** Size of framingCases (its arguments do not change it). */
const FRAMING_CASE_COUNT = framingCases({ host: 'h', postPath: '/', auth: 'a' }).length;

/**
 * How many cases each table runs. Generated tables are counted from their generators; hand-written tables state
 * their size here and `recordCount` fails the test when the table and this number disagree, so the total in
 * docs/SECURITY.md (checked by count.test.ts) is the number of cases that really ran.
 */
export const CASE_COUNTS: Readonly<Record<string, number>> = {
  'daemon.fields': fieldCases(DAEMON_VERBS).length,
  'daemon.shapes': shapeCases(DAEMON_VERBS).length,
  'daemon.raw': rawCases(1, DAEMON_VERBS).length,
  'daemon.verbNames': BAD_VERB_NAMES.length + 1,
  'daemon.credentials': 11,
  'daemon.hosts': rebindingHosts(1).length,
  'daemon.origins': foreignOrigins(1).length,
  'daemon.headers': 13,
  'daemon.remote': 7,
  'daemon.operator': 27,
  'daemon.sse': 8,
  'daemon.framing': FRAMING_CASE_COUNT + INJECTED_LENGTH_CASES.length,
  'relay.fields': fieldCases().length,
  'relay.shapes': shapeCases().length,
  'relay.raw': rawCases(1).length,
  'relay.verbNames': BAD_VERB_NAMES.length,
  'relay.lookups': 16,
  'relay.sqlText': 4,
  'relay.idempotency': 1,
  'relay.artifactSymlink': 1,
  'relay.credentials': 14,
  'relay.crossOrg': 17,
  'relay.queries': 8,
  'relay.enroll': 15,
  'relay.hosts': 3,
  'relay.origins': 15,
  'relay.oauth': 13,
  'relay.oauthServer.authorize': 13,
  'relay.oauthServer.consent': 10,
  'relay.oauthServer.refresh': 1,
  'relay.oauthServer.register': 10,
  'relay.oauthServer.resource': 2,
  'relay.oauthServer.token': 6,
  'relay.rateLimit': 1,
  'relay.framing': FRAMING_CASE_COUNT + INJECTED_LENGTH_CASES.length,
  'mcp.transport': 13,
  'mcp.tools': mcpToolCases().length,
  'mcp.modern': 22,
  'frames.relayUpgrade': 14,
  'frames.relay': 19,
  'frames.connectorRequests': 6 + connectorFieldCases().length,
  'frames.connectorIds': 2,
  'frames.connectorActors': 2,
  'frames.connectorMalformed': 6,
  'frames.connectorGoodbye': 4,
  'frames.connectorUnexpected': 7,
  'escape.simulation': 10,
  'escape.gates': 8,
  'slow.daemon': 3,
  'slow.relay': 3,
};

/** Every hostile case of every table. */
export function hostileCaseTotal(): number {
  return Object.values(CASE_COUNTS).reduce((a, b) => a + b, 0);
}
