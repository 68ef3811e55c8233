// A scripted Anthropic Messages API (POST /v1/messages, SSE when `stream: true`), as Claude Code calls it.
import { DEFAULT_FINAL_TEXT, ScriptedApi, json, sse } from './scripted-api.js';
import type { Dialect, Exchange, Turn } from './scripted-api.js';

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function blocks(turn: Exclude<Turn, { kind: 'status' | 'drop' }>, seq: number): Block[] {
  const id = `toolu_${seq}`;
  if (turn.kind === 'text') return [{ type: 'text', text: turn.text }];
  const text: Block = { type: 'text', text: turn.text ?? `SCRIPTED: step ${seq}.` };
  if (turn.kind === 'write') return [text, { type: 'tool_use', id, name: 'Write', input: { file_path: turn.path, content: turn.content } }];
  return [text, { type: 'tool_use', id, name: 'Bash', input: { command: turn.command, description: 'scripted command' } }];
}

function message(seq: number, model: string, content: Block[]) {
  const stop = content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  return {
    id: `msg_${seq}`, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

function stream(x: Exchange, seq: number, model: string, content: Block[]): void {
  const start = { ...message(seq, model, []), stop_reason: null };
  const events: Array<{ event: string; data: unknown }> = [{ event: 'message_start', data: { type: 'message_start', message: start } }];
  content.forEach((b, index) => {
    if (b.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { ...b, input: {} } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  const stop = message(seq, model, content).stop_reason;
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 10 } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  sse(x.res, events);
  x.res.end();
}

interface MessagesBody {
  model?: string;
  stream?: boolean;
  tools?: unknown[];
}

const dialect: Dialect = {
  side(x) {
    const body = (x.body ?? {}) as MessagesBody;
    if (x.req.method !== 'POST' || !x.path.startsWith('/v1/messages')) {
      json(x.res, x.path.startsWith('/v1/messages/count_tokens') ? 200 : 404, { input_tokens: 10 });
      return true;
    }
    if (x.path.startsWith('/v1/messages/count_tokens')) {
      json(x.res, 200, { input_tokens: 10 });
      return true;
    }
    // Claude Code's side requests (title, quota probe) carry no tools; the agent's turns always do.
    if (!body.tools?.length) {
      const content: Block[] = [{ type: 'text', text: DEFAULT_FINAL_TEXT }];
      if (body.stream) stream(x, 0, body.model ?? 'scripted', content);
      else json(x.res, 200, message(0, body.model ?? 'scripted', content));
      return true;
    }
    return false;
  },
  answer(x, turn, seq) {
    const body = (x.body ?? {}) as MessagesBody;
    if (body.stream) stream(x, seq, body.model ?? 'scripted', blocks(turn, seq));
    else json(x.res, 200, message(seq, body.model ?? 'scripted', blocks(turn, seq)));
  },
  streamStart(x) {
    sse(x.res, [{ event: 'message_start', data: { type: 'message_start', message: { ...message(0, 'scripted', []), stop_reason: null } } }]);
  },
  errorBody(status, message) {
    const type = status === 401 ? 'authentication_error' : status === 400 ? 'invalid_request_error' : 'api_error';
    return { type: 'error', error: { type, message } };
  },
};

export function anthropicMessagesApi(): ScriptedApi {
  return new ScriptedApi(dialect);
}

/** The tool_result blocks Claude Code sent back, in order. */
export interface AnthropicToolResult {
  tool_use_id: string;
  content: unknown;
  is_error?: boolean;
}

export function anthropicToolResults(api: ScriptedApi): AnthropicToolResult[] {
  const last = api.mainRequests().at(-1)?.body as { messages?: Array<{ content: unknown }> } | undefined;
  const results: AnthropicToolResult[] = [];
  for (const m of last?.messages ?? []) {
    if (!Array.isArray(m.content)) continue;
    for (const b of m.content as Array<{ type: string }>) if (b.type === 'tool_result') results.push(b as unknown as AnthropicToolResult);
  }
  return results;
}
