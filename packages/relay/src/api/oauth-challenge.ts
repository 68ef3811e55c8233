import type { DecorateRefusal } from '@sluice/node-kit';
import { ERROR_CATALOG } from '@sluice/shared-protocol';

/** The relay's addition to the shared error mapper: 401s and scope refusals carry the OAuth challenge (RFC 9728). */
export function oauthChallenge(resourceMetadataUrl: () => string): DecorateRefusal {
  return (e, reply) => {
    if (e.status === 401) {
      reply.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${ERROR_CATALOG[e.code].message}", resource_metadata="${resourceMetadataUrl()}"`);
    } else if (e.code === 'INSUFFICIENT_SCOPE') {
      reply.header('WWW-Authenticate', `Bearer error="insufficient_scope", resource_metadata="${resourceMetadataUrl()}"`);
    }
  };
}
