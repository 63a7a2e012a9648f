import { createServer, type Server } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../libs/auth/tokens.js';
import { createTokenVerifier } from './auth.js';

/** Token verification with a JWKS endpoint (AUTH_JWKS_URL) served locally, and with HS256. */
let server: Server;
let jwksUrl: string;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const rs256 = (claims: Record<string, unknown>, kid = 'k1') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setSubject('m-1').setIssuedAt().setExpirationTime('5m').sign(privateKey);

describe('token verification', () => {
  it('accepts tokens signed by a key of AUTH_JWKS_URL, and nothing else', async () => {
    const verify = createTokenVerifier({ jwtSecret: 'unused-secret-of-sufficient-length', jwksUrl });
    expect(await verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' })}`)).toEqual({ sub: 'm-1', org: 'o-1', role: 'mentor' });
    await expect(verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' }, 'unknown-kid')}`)).rejects.toMatchObject({ status: 401 });
    // An HS256 token made with the shared secret is refused when the service trusts a JWKS.
    await expect(verify(`Bearer ${await mintToken({ role: 'mentor', sub: 'm-1', org: 'o-1' }, 'unused-secret-of-sufficient-length')}`)).rejects.toMatchObject({ status: 401 });
  });

  it('with a secret, accepts HS256 only, and checks the claims', async () => {
    const secret = 'a-secret-of-sufficient-length';
    const verify = createTokenVerifier({ jwtSecret: secret, jwksUrl: undefined });
    expect(await verify(`Bearer ${await mintToken({ role: 'platform_admin', sub: 'root' }, secret)}`)).toEqual({ sub: 'root', org: null, role: 'platform_admin' });
    await expect(verify(`Bearer ${await rs256({ role: 'mentor', org: 'o-1' })}`)).rejects.toMatchObject({ status: 401 });
    await expect(verify(`Bearer ${await mintToken({ role: 'coordinator', sub: 'c' }, secret)}`)).rejects.toMatchObject({ status: 401, message: 'token has no org claim' });
    await expect(verify(`Basic abc`)).rejects.toMatchObject({ status: 401 });
    await expect(verify(undefined)).rejects.toMatchObject({ status: 401 });
  });
});
