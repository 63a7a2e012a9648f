/** The part of an invite link that decides whether a click on it counts. */
export interface LinkValidity {
  expiresAt: number | null;
  revokedAt: number | null;
}

export type LinkState = 'active' | 'expired' | 'revoked';

/**
 * Whether a link was active at an instant: not yet expired and not yet revoked. Revoking a
 * link today keeps yesterday's clicks.
 */
export function linkStateAt(link: LinkValidity, at: number): LinkState {
  if (link.revokedAt !== null && at >= link.revokedAt) return 'revoked';
  if (link.expiresAt !== null && at >= link.expiresAt) return 'expired';
  return 'active';
}
