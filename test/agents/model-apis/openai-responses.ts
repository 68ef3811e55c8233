// A scripted OpenAI Responses API (POST /v1/responses, SSE), as codex calls it through a custom model provider.
import { ScriptedApi, json, sse } from './scripted-api.js';
import type { Dialect, Exchange, Turn } from './scripted-api.js';

type Item = Record<string, unknown> & { type: string; id: string };

interface ResponsesBody {
  model?: string;
  tools?: Array<{ type: string; name?: string }>;
}

function offers(x: Exchange, name: string): boolean {
  return ((x.body ?? {}) as ResponsesBody).tools?.some((t) => t.name === name) ?? false;
}

function textItem(seq: number, text: string): Item {
  return { type: 'message', id: `msg_${seq}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
}

/** codex offers apply_patch as a freeform (custom) tool for bundled models; the patch adds the file whole. */
function patchFor(path: string, content: string): string {
  const lines = content.replace(/\n$/, '').split('\n').map((l) => `+${l}`);
  return ['*** Begin Patch', `*** Add File: ${path}`, ...lines, '*** End Patch', ''].join('\n');
}

function shellCall(x: Exchange, seq: number, command: string): Item {
  const call = { id: `fc_${seq}`, call_id: `call_${seq}`, status: 'completed' };
  if (offers(x, 'exec_command')) return { type: 'function_call', ...call, name: 'exec_command', arguments: JSON.stringify({ cmd: command }) };
  return { type: 'function_call', ...call, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', command] }) };
}

function items(x: Exchange, turn: Exclude<Turn, { kind: 'status' | 'drop' }>, seq: number): Item[] {
  if (turn.kind === 'text') return [textItem(seq, turn.text)];
  const text = textItem(seq, turn.text ?? `SCRIPTED: step ${seq}.`);
  if (turn.kind === 'shell') return [text, shellCall(x, seq, turn.command)];
  if (offers(x, 'apply_patch')) {
    return [text, { type: 'custom_tool_call', id: `ctc_${seq}`, call_id: `call_${seq}`, status: 'completed', name: 'apply_patch', input: patchFor(turn.path, turn.content) }];
  }
  const heredoc = `cat > '${turn.path}' <<'SCRIPTED_EOF'\n${turn.content.replace(/\n$/, '')}\nSCRIPTED_EOF`;
  return [text, shellCall(x, seq, heredoc)];
}

function response(seq: number, model: string, output: Item[], status: string) {
  return {
    id: `resp_${seq}`, object: 'response', created_at: Math.floor(Date.now() / 1000), status, model, output,
    usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 20 },
  };
}

const dialect: Dialect = {
  side(x) {
    if (x.req.method === 'POST' && x.path.startsWith('/v1/responses')) return false;
    if (x.path.startsWith('/v1/models')) json(x.res, 200, { object: 'list', data: [] });
    else json(x.res, 404, { error: { message: `scripted API: no route ${x.req.method} ${x.path}` } });
    return true;
  },
  answer(x, turn, seq) {
    const model = ((x.body ?? {}) as ResponsesBody).model ?? 'scripted';
    const output = items(x, turn, seq);
    const events: Array<{ event: string; data: unknown }> = [
      { event: 'response.created', data: { type: 'response.created', response: response(seq, model, [], 'in_progress') } },
    ];
    output.forEach((item, output_index) => {
      events.push({ event: 'response.output_item.added', data: { type: 'response.output_item.added', output_index, item } });
      events.push({ event: 'response.output_item.done', data: { type: 'response.output_item.done', output_index, item } });
    });
    events.push({ event: 'response.completed', data: { type: 'response.completed', response: response(seq, model, output, 'completed') } });
    sse(x.res, events);
    x.res.end();
  },
  streamStart(x) {
    sse(x.res, [{ event: 'response.created', data: { type: 'response.created', response: response(0, 'scripted', [], 'in_progress') } }]);
  },
  errorBody(status, message) {
    const code = status === 401 ? 'invalid_api_key' : status === 400 ? 'invalid_request_error' : 'server_error';
    return { error: { message, type: code, code } };
  },
};

export function openAiResponsesApi(): ScriptedApi {
  return new ScriptedApi(dialect);
}

/** The outputs codex sent back for its tool calls, in order (function_call_output / custom_tool_call_output). */
export function openAiToolOutputs(api: ScriptedApi): Array<{ type: string; call_id: string; output: unknown }> {
  const last = api.mainRequests().at(-1)?.body as { input?: Array<{ type: string; call_id: string; output: unknown }> } | undefined;
  return (last?.input ?? []).filter((i) => i.type === 'function_call_output' || i.type === 'custom_tool_call_output');
}
