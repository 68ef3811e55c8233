/** Where the built-in authorization server's endpoints live, below the relay's origin. */
export const OAUTH_PATHS = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
  consent: '/oauth/consent',
} as const;

/** Model name of the records that block a client id (a revoked client metadata document URL). */
export const REVOKED_CLIENT_MODEL = 'RevokedClient';
