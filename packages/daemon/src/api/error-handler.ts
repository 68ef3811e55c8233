import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CATALOG, SluiceError, type ErrorCode } from '@sluice/shared-protocol';

/** SQLite and file-system codes of a full, read-only or failing disk. */
const STORAGE_FAILURE = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)|ENOSPC|EROFS|EDQUOT|EFBIG|EIO)/;

/** True for an error thrown because the disk is full, read-only or failing (not a bug, not the caller's fault). */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_FAILURE.test(code);
}

/** Map framework errors to catalog codes. */
function codeFor(err: FastifyError): ErrorCode {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'MALFORMED_JSON';
    default:
      break;
  }
  if (err instanceof SyntaxError || err.name === 'SyntaxError') return 'MALFORMED_JSON';
  const status = err.statusCode ?? 500;
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status >= 400 && status < 500) return 'BAD_REQUEST';
  return 'INTERNAL';
}

/** One error handler: every failure leaves as `{code, message}` with the catalog status. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof SluiceError) return reply.code(err.status).send(err.toBody());
    if (isStorageFailure(err)) {
      req.log.error({ err }, 'storage failure');
      return reply.code(ERROR_CATALOG.STORAGE_ERROR.status).send({ code: 'STORAGE_ERROR', message: ERROR_CATALOG.STORAGE_ERROR.message });
    }
    const code = codeFor(err);
    if (code === 'INTERNAL') req.log.error({ err }, 'request failed');
    return reply.code(ERROR_CATALOG[code].status).send({ code, message: ERROR_CATALOG[code].message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ code: 'NOT_FOUND', message: ERROR_CATALOG.NOT_FOUND.message }));
}
