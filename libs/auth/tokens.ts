import { SignJWT } from 'jose';

export const TOKEN_ROLES = ['mentor', 'coordinator', 'org_admin', 'platform_admin', 'service'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * Mints an HS256 token with the claims of SPEC §5, for development, tests and the demo. A
 * service token may name the organizations it writes for (`orgs`, `["*"]` for every one). It
 * carries iat (the service refuses a token older than AUTH_TOKEN_MAX_AGE_HOURS, whatever its
 * exp), and the issuer and audience the service checks when they are configured.
 */
export async function mintToken(
  claims: { sub: string; role: TokenRole; org?: string | null; orgs?: string[] },
  secret: string,
  ttl = '12h',
  expected: { issuer?: string | undefined; audience?: string | undefined } = {},
): Promise<string> {
  const jwt = new SignJWT({ role: claims.role, ...(claims.org ? { org: claims.org } : {}), ...(claims.orgs ? { orgs: claims.orgs } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (expected.issuer) jwt.setIssuer(expected.issuer);
  if (expected.audience) jwt.setAudience(expected.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
