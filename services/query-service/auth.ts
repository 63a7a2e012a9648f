import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ApiError } from './errors.js';
import { TOKEN_ROLES, type TokenRole } from '../../libs/auth/tokens.js';

export type Role = TokenRole;

/** Who is calling, from a verified token. */
export interface Caller {
  sub: string;
  org: string | null;
  role: Role;
  /** For service tokens: the organizations whose events it may publish. */
  writes?: string[] | '*';
}

/** How far a token's exp, nbf and iat may be off before it is refused: clocks drift a little. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Failures that say the identity provider could not be asked, not that the token is bad. */
const keysUnavailable = (err: unknown) => err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || !(err instanceof joseErrors.JOSEError);

/**
 * Verifies bearer tokens: HS256 with AUTH_JWT_SECRET, or the keys of AUTH_JWKS_URL when set
 * (fetched, cached and refreshed by jose). A token must expire (exp), and carry the configured
 * issuer and audience when those are set. A key set that cannot be fetched is a 503, not a
 * verdict on the token.
 */
export function createTokenVerifier(auth: { jwtSecret: string; jwksUrl: string | undefined; issuer?: string | undefined; audience?: string | undefined }) {
  const secret = new TextEncoder().encode(auth.jwtSecret);
  const jwks: JWTVerifyGetKey | undefined = auth.jwksUrl ? createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 3_000 }) : undefined;
  const options = {
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.audience ? { audience: auth.audience } : {}),
  };

  return async function verify(authorization: string | undefined): Promise<Caller> {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? '');
    if (!match) throw new ApiError(401, 'unauthorized', 'missing or malformed bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = jwks
        ? await jwtVerify(match[1] as string, jwks, { ...options, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })
        : await jwtVerify(match[1] as string, secret, { ...options, algorithms: ['HS256'] }));
    } catch (err) {
      if (jwks && keysUnavailable(err)) throw new ApiError(503, 'unavailable', 'the identity provider\'s keys could not be fetched; retry shortly');
      throw new ApiError(401, 'unauthorized', 'invalid or expired token');
    }
    const { sub, org, role } = payload as JWTPayload & { org?: unknown; role?: unknown };
    if (typeof sub !== 'string' || sub === '') throw new ApiError(401, 'unauthorized', 'token has no sub claim');
    if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) throw new ApiError(401, 'unauthorized', 'token has no valid role claim');
    if (role !== 'platform_admin' && role !== 'service' && (typeof org !== 'string' || org === '')) throw new ApiError(401, 'unauthorized', 'token has no org claim');
    return { sub, org: typeof org === 'string' && org !== '' ? org : null, role: role as Role, ...(role === 'service' ? { writes: serviceOrgs(payload) } : {}) };
  };
}

/**
 * The organizations a service token may write events for: its `orgs` claim (an array), else
 * its `org`. Every organization only when the token says so explicitly (`orgs: ["*"]`).
 */
function serviceOrgs(payload: JWTPayload): string[] | '*' {
  const { orgs, org } = payload as { orgs?: unknown; org?: unknown };
  if (Array.isArray(orgs) && orgs.every((o) => typeof o === 'string' && o !== '')) return orgs.includes('*') ? '*' : (orgs as string[]);
  return typeof org === 'string' && org !== '' ? [org] : [];
}
