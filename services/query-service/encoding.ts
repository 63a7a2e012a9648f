import type { FastifyReply } from 'fastify';

/**
 * The weight of each value an Accept-style header names (Accept, Accept-Encoding: RFC 9110
 * §12.4.2), lowercased, without its parameters: its `q`, else 1; the highest where a value is
 * named twice. A value whose `q` is not a number is left out.
 */
export function acceptWeights(header: string | string[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [value = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(weight)) weights.set(value, Math.max(weights.get(value) ?? 0, weight));
  }
  return weights;
}

/**
 * Whether a request's Accept-Encoding takes gzip (RFC 9110 §12.5.3): `gzip` (or its alias
 * `x-gzip`) with a weight above 0, or, when gzip is not named, `*` with one. A dashboard's
 * browser sends `gzip, deflate, br, zstd`; curl and most scripts send nothing, and get the
 * answer uncompressed.
 */
export function takesGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const weights = acceptWeights(header);
  const named = [weights.get('gzip'), weights.get('x-gzip')].filter((w) => w !== undefined);
  return (named.length > 0 ? Math.max(...named) : (weights.get('*') ?? 0)) > 0;
}

/** Adds a request header to the reply's Vary, keeping what is there (CORS puts Origin in it first). */
export function addVary(reply: FastifyReply, field: string): FastifyReply {
  const current = reply.getHeader('vary');
  const fields = (Array.isArray(current) ? current.join(',') : current === undefined ? '' : String(current)).split(',').map((f) => f.trim()).filter(Boolean);
  if (fields.includes('*') || fields.some((f) => f.toLowerCase() === field.toLowerCase())) return reply;
  return reply.header('vary', [...fields, field].join(', '));
}
