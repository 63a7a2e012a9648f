import { describe, expect, it } from 'vitest';
import { hoistNamedSchemas } from './openapi.js';

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
