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
