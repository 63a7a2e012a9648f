/**
 * Hoists every named schema (an object schema with a `title`: FunnelTotals, RecruitProfile,
 * …) of a generated OpenAPI document into `components.schemas` and refers to it by `$ref`,
 * so generated clients get one named type per shape instead of anonymous copies. The route
 * schemas stay plain TypeBox values; this runs once on the finished document.
 */
export function hoistNamedSchemas(doc: object): Record<string, unknown> {
  const given = (doc as { components?: { schemas?: Record<string, unknown> } }).components;
  const schemas: Record<string, unknown> = { ...(given?.schemas ?? {}) };
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = visit(value);
    const title = out.title;
    if (typeof title === 'string' && out.type === 'object' && /^[A-Za-z][A-Za-z0-9]*$/.test(title)) {
      schemas[title] ??= out;
      return { $ref: `#/components/schemas/${title}` };
    }
    return out;
  };
  const visited = visit(doc) as Record<string, unknown>;
  return { ...visited, components: { ...(visited.components as object | undefined), schemas } };
}

/**
 * Declares the CSV answer of every operation that takes `format` (csv-reply.ts): its 200 gets
 * a `text/csv` content beside the JSON one, so a client generator and the docs page know it.
 */
export function addCsvResponses(doc: Record<string, unknown>): Record<string, unknown> {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses?: Record<string, { content?: Record<string, unknown> }> }>>;
  for (const methods of Object.values(paths)) {
    for (const op of Object.values(methods)) {
      const ok = op.responses?.['200'];
      if (!ok?.content || !op.parameters?.some((p) => p.in === 'query' && p.name === 'format')) continue;
      ok.content['text/csv'] = {
        schema: { type: 'string', description: 'RFC 4180 with a header row (README "CSV export" lists the columns); instants in the organization\'s timezone' },
      };
    }
  }
  return doc;
}
