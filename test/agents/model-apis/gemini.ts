// A scripted Gemini API (models/<m>:generateContent and :streamGenerateContent?alt=sse), as the Gemini CLI calls it.
import { DEFAULT_FINAL_TEXT, ScriptedApi, json, sse } from './scripted-api.js';
import type { Dialect, Exchange, Turn } from './scripted-api.js';

type Part = { text: string } | { functionCall: { name: string; args: Record<string, unknown> } };

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
}

interface GenerateBody {
  tools?: Array<{ functionDeclarations?: Array<{ name: string }> }>;
  generationConfig?: { responseMimeType?: string; responseJsonSchema?: Schema; responseSchema?: Schema };
}

/** The smallest value a JSON-mode side call's schema accepts (e.g. the model router's complexity score). */
function valueFor(schema: Schema | undefined): unknown {
  if (schema?.enum?.length) return schema.enum[0];
  switch (schema?.type?.toLowerCase()) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, valueFor(v)]));
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return false;
    default:
      return 'scripted';
  }
}

function parts(turn: Exclude<Turn, { kind: 'status' | 'drop' }>, seq: number): Part[] {
  if (turn.kind === 'text') return [{ text: turn.text }];
  const text = { text: turn.text ?? `SCRIPTED: step ${seq}.` };
  if (turn.kind === 'write') return [text, { functionCall: { name: 'write_file', args: { file_path: turn.path, content: turn.content } } }];
  return [text, { functionCall: { name: 'run_shell_command', args: { command: turn.command, description: 'scripted command' } } }];
}

function candidate(content: Part[]) {
  return {
    candidates: [{ content: { role: 'model', parts: content }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 10, totalTokenCount: 20 },
    modelVersion: 'scripted',
  };
}

function send(x: Exchange, content: Part[]): void {
  if (x.path.includes(':streamGenerateContent')) {
    sse(x.res, [{ data: candidate(content) }]);
    x.res.end();
  } else {
    json(x.res, 200, candidate(content));
  }
}

function isGenerate(x: Exchange): boolean {
  return x.req.method === 'POST' && /:(stream)?[gG]enerateContent/.test(x.path);
}

const dialect: Dialect = {
  side(x) {
    if (x.path.includes(':countTokens')) {
      json(x.res, 200, { totalTokens: 10 });
      return true;
    }
    if (!isGenerate(x)) {
      json(x.res, 404, { error: { code: 404, message: `scripted API: no route ${x.req.method} ${x.path}`, status: 'NOT_FOUND' } });
      return true;
    }
    // The CLI's side calls (routing, next-speaker and loop checks) send no tools; the agent's turns do.
    const body = (x.body ?? {}) as GenerateBody;
    if (!body.tools?.some((t) => t.functionDeclarations?.length)) {
      const config = body.generationConfig;
      const schema = config?.responseJsonSchema ?? config?.responseSchema;
      send(x, [{ text: config?.responseMimeType === 'application/json' ? JSON.stringify(valueFor(schema)) : DEFAULT_FINAL_TEXT }]);
      return true;
    }
    return false;
  },
  answer(x, turn, seq) {
    send(x, parts(turn, seq));
  },
  streamStart(x) {
    sse(x.res, [{ data: candidate([{ text: 'SCRIPTED: partial' }]) }]);
  },
  errorBody(status, message) {
    const s = status === 401 ? 'UNAUTHENTICATED' : status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL';
    return { error: { code: status, message, status: s } };
  },
};

export function geminiApi(): ScriptedApi {
  return new ScriptedApi(dialect);
}

/** The functionResponse parts the CLI sent back, in order. */
export function geminiFunctionResponses(api: ScriptedApi): Array<{ name: string; response: unknown }> {
  const last = api.mainRequests().at(-1)?.body as { contents?: Array<{ parts?: Array<{ functionResponse?: { name: string; response: unknown } }> }> } | undefined;
  return (last?.contents ?? []).flatMap((c) => c.parts ?? []).flatMap((p) => (p.functionResponse ? [p.functionResponse] : []));
}
