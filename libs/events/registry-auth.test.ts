import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { registryProblem } from '../observability/readiness.js';
import { createSchemaRegistry } from './codec.js';

/**
 * What the registry clients send with SCHEMA_REGISTRY_USERNAME / _PASSWORD: an HTTP server on
 * loopback that, like a managed registry, answers 401 to any request without the right basic auth.
 * (The local Apicurio has no authentication, so the stack tests cannot show this.)
 */
let server: Server;
let url: string;
const seen: (string | undefined)[] = [];
const expected = `Basic ${Buffer.from('registry-key:registry-secret').toString('base64')}`;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    seen.push(req.headers.authorization);
    if (req.headers.authorization !== expected) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}');
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    res.end(req.url === '/config' ? '{"compatibilityLevel":"BACKWARD"}' : JSON.stringify({ subject: 'x-value', version: 1, id: 7, schema: '"string"' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('schema registry basic auth', () => {
  it('the registry client sends the configured credentials, and without them is refused', async () => {
    const withAuth = loadConfig({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: 'registry-key', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' });
    expect(await createSchemaRegistry(withAuth).getLatestSchemaId('x-value')).toBe(7);
    expect(seen.at(-1)).toBe(expected);
    await expect(createSchemaRegistry(loadConfig({ SCHEMA_REGISTRY_URL: url })).getLatestSchemaId('x-value')).rejects.toThrow(/401|Unauthorized/);
    expect(seen.at(-1)).toBeUndefined();
  });

  it('the readiness check reads /config with the credentials', async () => {
    const withAuth = loadConfig({ SCHEMA_REGISTRY_URL: url, SCHEMA_REGISTRY_USERNAME: 'registry-key', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' });
    expect(await registryProblem(withAuth.schemaRegistryUrl, 2_000, withAuth.schemaRegistryAuth)).toBeNull();
    expect(seen.at(-1)).toBe(expected);
    expect(await registryProblem(url, 2_000)).toBe('answers 401');
  });
});
