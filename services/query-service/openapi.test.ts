import { describe, expect, it } from 'vitest';
import { addCsvResponses, hoistNamedSchemas } from './openapi.js';

describe('hoistNamedSchemas', () => {
  it('moves titled object schemas into components and refers to them, nested ones included', () => {
    const totals = { type: 'object', title: 'FunnelTotals', properties: { clicks: { type: 'integer' } } };
    const doc = {
      paths: { '/a': { get: { responses: { 200: { content: { 'application/json': { schema: { type: 'object', title: 'Stats', properties: { totals, other: totals } } } } } } } } },
      components: { securitySchemes: {} },
    };
    const out = hoistNamedSchemas(doc) as unknown as { paths: typeof doc.paths; components: { schemas: Record<string, { properties: Record<string, unknown> }> } };
    expect(out.paths['/a'].get.responses[200].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Stats' });
    expect(out.components.schemas.Stats?.properties).toEqual({ totals: { $ref: '#/components/schemas/FunnelTotals' }, other: { $ref: '#/components/schemas/FunnelTotals' } });
    expect(out.components.schemas.FunnelTotals).toEqual(totals);
  });
});

describe('addCsvResponses', () => {
  it('adds text/csv to the 200 of the operations that take format, and only to those', () => {
    const ok = () => ({ 200: { content: { 'application/json': { schema: {} } } }, 404: { content: { 'application/json': { schema: {} } } } });
    const doc = {
      paths: {
        '/list': { get: { parameters: [{ in: 'query', name: 'format' }], responses: ok() } },
        '/one': { get: { parameters: [{ in: 'path', name: 'format' }], responses: ok() } },
      },
    };
    const out = addCsvResponses(doc) as typeof doc;
    expect(Object.keys(out.paths['/list'].get.responses[200].content)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(out.paths['/list'].get.responses[404].content)).toEqual(['application/json']);
    expect(Object.keys(out.paths['/one'].get.responses[200].content)).toEqual(['application/json']);
  });
});
