import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOG, SluiceError } from '@sluice/shared-protocol';

/** SQLite and file-system codes of a full, read-only or failing disk. */
const STORAGE_FAILURE = /^(SQLITE_(FULL|READONLY|IOERR|CANTOPEN|CORRUPT|NOTADB)|ENOSPC|EROFS|EDQUOT|EFBIG|EIO)/;

/** Map anything thrown in a route to a catalog error. */
export function toSluiceError(err: unknown): SluiceError {
  if (err instanceof SluiceError) return err;
  const storageCode = (err as { code?: unknown } | null)?.code;
  if (typeof storageCode === 'string' && STORAGE_FAILURE.test(storageCode)) return new SluiceError('STORAGE_ERROR');
  const e = err as Partial<FastifyError> & { statusCode?: number };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new SluiceError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SluiceError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SluiceError('MALFORMED_JSON');
    default:
  }
  if (e.statusCode === 429) return new SluiceError('RATE_LIMITED');
  if (e.statusCode === 400 && e instanceof SyntaxError) return new SluiceError('MALFORMED_JSON');
  if (e.statusCode === 400 && e.validation) return new SluiceError('INVALID_INPUT');
  return new SluiceError('INTERNAL');
}

/** The one error handler: `{code, message}` with the catalog status; 401s carry the OAuth challenge. */
export function makeErrorHandler(resourceMetadataUrl: () => string) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const e = toSluiceError(err);
    if (e.code === 'INTERNAL' || e.code === 'STORAGE_ERROR') request.log.error({ err }, 'unhandled error');
    if (e.status === 401) {
      reply.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${ERROR_CATALOG[e.code].message}", resource_metadata="${resourceMetadataUrl()}"`);
    } else if (e.code === 'INSUFFICIENT_SCOPE') {
      reply.header('WWW-Authenticate', `Bearer error="insufficient_scope", resource_metadata="${resourceMetadataUrl()}"`);
    }
    void reply.code(e.status).type('application/json; charset=utf-8').send(e.toBody());
  };
}
