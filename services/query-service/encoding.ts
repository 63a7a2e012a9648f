import type { FastifyReply } from 'fastify';

/**
 * Whether a request's Accept-Encoding takes gzip (RFC 9110 §12.5.3): `gzip` (or its alias
 * `x-gzip`) with a weight above 0, or, when gzip is not named, `*` with one. A dashboard's
 * browser sends `gzip, deflate, br, zstd`; curl and most scripts send nothing, and get the
 * answer uncompressed.
 */
export function takesGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const weight = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = weight === undefined ? 1 : Number(weight.slice(2));
    if (!Number.isFinite(q)) continue;
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = Math.max(any ?? 0, q);
  }
  return (gzip ?? any ?? 0) > 0;
}

/** Adds a request header to the reply's Vary, keeping what is there (CORS puts Origin in it first). */
export function addVary(reply: FastifyReply, field: string): FastifyReply {
  const current = reply.getHeader('vary');
  const fields = (Array.isArray(current) ? current.join(',') : current === undefined ? '' : String(current)).split(',').map((f) => f.trim()).filter(Boolean);
  if (fields.includes('*') || fields.some((f) => f.toLowerCase() === field.toLowerCase())) return reply;
  return reply.header('vary', [...fields, field].join(', '));
}
