import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ERROR_CATALOG, SluiceError, type ErrorCode } from '@sluice/shared-protocol';

/** SQLite and file-system codes of a full, read-only or failing disk. */
const STORAGE_FAILURE = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)|ENOSPC|EROFS|EDQUOT|EFBIG|EIO)/;

/** True for an error thrown because the disk is full, read-only or failing (not a bug, not the caller's fault). */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_FAILURE.test(code);
}

/** Fastify's own error codes whose meaning the status alone does not carry. */
const FRAMEWORK_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
};

/** Client-fault statuses with a code of their own; any other 4xx is BAD_REQUEST. */
const CLIENT_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

function own<T>(table: Readonly<Record<string | number, T>>, key: string | number | undefined): T | undefined {
  return key !== undefined && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/**
 * Anything thrown while serving a request, as a catalog error. A client fault (any 4xx) is never INTERNAL: only
 * a 5xx or an error without a status is.
 */
export function toSluiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  if (isStorageFailure(err)) return new SluiceError('STORAGE_ERROR');
  const e = (err ?? {}) as Partial<FastifyError> & { validation?: unknown };
  const byCode = own(FRAMEWORK_CODES, typeof e.code === 'string' ? e.code : undefined);
  if (byCode) return new SluiceError(byCode);
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 400 && (err instanceof SyntaxError || e.name === 'SyntaxError')) return new SluiceError('MALFORMED_JSON');
  if (status === 400 && e.validation) return new SluiceError('INVALID_INPUT');
  const byStatus = own(CLIENT_STATUS_CODES, status);
  if (byStatus) return new SluiceError(byStatus);
  if (status !== undefined && status >= 400 && status < 500) return new SluiceError('BAD_REQUEST');
  return new SluiceError('INTERNAL');
}

/** Headers a server adds to some refusals (the relay's OAuth challenge on a 401). */
export type DecorateRefusal = (e: SluiceError, reply: FastifyReply) => void;

function send(err: unknown, request: FastifyRequest, reply: FastifyReply, decorate?: DecorateRefusal): void {
  const e = toSluiceError(err);
  if (e.code === 'INTERNAL' || e.code === 'STORAGE_ERROR') request.log.error({ err }, e.code === 'INTERNAL' ? 'request failed' : 'storage failure');
  decorate?.(e, reply);
  void reply.code(e.status).type('application/json; charset=utf-8').send(e.toBody());
}

/** A refusal written straight to a socket the HTTP parser gave up on (a timeout, bad framing, huge headers). */
function clientErrorResponse(err: NodeJS.ErrnoException): string {
  const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
  const { status } = ERROR_CATALOG[code];
  const body = JSON.stringify(new SluiceError(code).toBody());
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * The constructor options of the error mapper. Fastify answers a bad URL (`GET /%zz`) and a request the HTTP parser
 * refuses before any route or error handler runs, so these two must be given to `Fastify()` itself; pass the same
 * `decorate` as to `installErrorMapper`.
 */
export function errorMapperOptions(decorate?: DecorateRefusal): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'> {
  return {
    frameworkErrors: (err, request, reply) => send(err, request as FastifyRequest, reply as FastifyReply, decorate),
    clientErrorHandler: (err: Error, socket: Socket) => {
      // A reset connection has nobody left to answer.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(clientErrorResponse(err));
      socket.destroy(err);
    },
  };
}

/**
 * The one error mapper of a Sluice HTTP server: every error and every unknown route leaves as `{code, message}`
 * from the shared catalog, with the catalog status. Give `errorMapperOptions()` to the constructor as well.
 */
export function installErrorMapper(app: FastifyInstance, decorate?: DecorateRefusal): void {
  app.setErrorHandler((err: unknown, request, reply) => send(err, request, reply, decorate));
  app.setNotFoundHandler((request, reply) => send(new SluiceError('NOT_FOUND'), request, reply, decorate));
}
