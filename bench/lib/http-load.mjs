/**
 * A minimal HTTP/1.1 load client over raw keep-alive sockets, with pipelining.
 * It costs far less CPU per request than node:http or fetch, which matters on a 2-core machine where the
 * load generator shares the cores with the system under test. Loopback only.
 */
import net from 'node:net';
import { summarize, nowMs } from './stats.mjs';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Build the bytes of one request. `headers` is a plain object; Host and Content-Length are added. */
export function buildRequest({ host = '127.0.0.1', port, method = 'POST', path, headers = {}, body }) {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\nconnection: keep-alive\r\n`;
  if (payload.length > 0 || method === 'POST') head += `content-type: application/json\r\ncontent-length: ${payload.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(head + '\r\n'), payload]);
}

/** One keep-alive connection that matches pipelined responses to requests in order. */
export class Connection {
  constructor(host, port) {
    this.queue = [];
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('data', (d) => this.onData(d));
    this.socket.on('error', (err) => this.failAll(err));
    this.socket.on('close', () => {
      this.closed = true;
      this.failAll(new Error('connection closed'));
    });
  }

  /** Send one request; `cb(err, status, body)` is called when its response is complete. */
  send(reqBuf, cb) {
    this.queue.push(cb);
    this.socket.write(reqBuf);
  }

  /** Promise form of `send`. */
  request(reqBuf) {
    return new Promise((resolve, reject) => this.send(reqBuf, (err, status, body) => (err ? reject(err) : resolve({ status, body }))));
  }

  failAll(err) {
    const q = this.queue;
    this.queue = [];
    for (const cb of q) cb(err);
  }

  onData(d) {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      const end = this.buf.indexOf(CRLFCRLF);
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const lower = head.toLowerCase();
      const clMatch = /\r\ncontent-length:\s*(\d+)/.exec(lower);
      let bodyStart = end + 4;
      let body;
      let consumed;
      if (clMatch) {
        const len = Number(clMatch[1]);
        if (this.buf.length < bodyStart + len) return;
        body = this.buf.subarray(bodyStart, bodyStart + len);
        consumed = bodyStart + len;
      } else if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
        const parts = [];
        let pos = bodyStart;
        let complete = false;
        for (;;) {
          const lineEnd = this.buf.indexOf('\r\n', pos);
          if (lineEnd < 0) break;
          const size = parseInt(this.buf.subarray(pos, lineEnd).toString('latin1'), 16);
          if (size === 0) {
            if (this.buf.length < lineEnd + 4) break;
            consumed = lineEnd + 4;
            complete = true;
            break;
          }
          if (this.buf.length < lineEnd + 2 + size + 2) break;
          parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
          pos = lineEnd + 2 + size + 2;
        }
        if (!complete) return;
        body = Buffer.concat(parts);
      } else {
        body = Buffer.alloc(0);
        consumed = bodyStart;
      }
      this.buf = this.buf.subarray(consumed);
      const cb = this.queue.shift();
      if (cb) cb(null, status, body);
    }
  }

  close() {
    this.socket.destroy();
  }
}

/** Open one connection and wait for it. */
export async function connect(port, host = '127.0.0.1') {
  const c = new Connection(host, port);
  await c.ready;
  return c;
}

/**
 * Sequential latency: one request in flight on one keep-alive connection.
 * `requests` is one request buffer or a function `(i) => Buffer`. Bounded by `count` and `maxMs`.
 * Returns the summary of the latency samples in ms plus the number of non-2xx answers.
 */
export async function latency({ port, requests, count, warmup = Math.ceil(count / 10), maxMs = 20_000, check }) {
  const conn = await connect(port);
  const samples = [];
  let errors = 0;
  let firstError;
  const t0 = nowMs();
  try {
    for (let i = 0; i < warmup + count; i++) {
      if (nowMs() - t0 > maxMs) break;
      const req = typeof requests === 'function' ? requests(i) : requests;
      const t = nowMs();
      const { status, body } = await conn.request(req);
      const dt = nowMs() - t;
      if (status < 200 || status >= 300 || (check && !check(body))) {
        errors++;
        firstError ??= `${status} ${body.toString().slice(0, 300)}`;
      }
      if (i >= warmup) samples.push(dt);
    }
  } finally {
    conn.close();
  }
  return { ...summarize(samples), errors, firstError };
}

/**
 * Closed-loop throughput: `connections` sockets each keep `window` pipelined requests in flight for `durationMs`
 * after `warmupMs`. Returns completed requests per second in the measured window and the error count.
 */
export async function throughput({ port, requests, connections = 4, window = 16, durationMs = 3000, warmupMs = 500 }) {
  const conns = await Promise.all(Array.from({ length: connections }, () => connect(port)));
  let counting = false;
  let stopping = false;
  let done = 0;
  let errors = 0;
  let firstError;
  let seq = 0;
  const next = () => (typeof requests === 'function' ? requests(seq++) : (seq++, requests));
  const onDone = (conn) => (err, status, body) => {
    if (err) {
      if (!stopping) {
        errors++;
        firstError ??= err.message;
      }
      return;
    }
    if (counting) {
      done++;
      if (status < 200 || status >= 300) {
        errors++;
        firstError ??= `${status} ${body.toString().slice(0, 300)}`;
      }
    }
    if (!stopping && !conn.closed) conn.send(next(), onDone(conn));
  };
  for (const c of conns) for (let w = 0; w < window; w++) c.send(next(), onDone(c));
  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const t0 = nowMs();
  await new Promise((r) => setTimeout(r, durationMs));
  counting = false;
  const elapsed = nowMs() - t0;
  stopping = true;
  // Let in-flight answers drain briefly so the server is not left with a backlog for the next measurement.
  const drainUntil = nowMs() + 2000;
  while (conns.some((c) => c.queue.length > 0) && nowMs() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  for (const c of conns) c.close();
  return { rps: (done * 1000) / elapsed, completed: done, sent: seq, errors, firstError };
}
