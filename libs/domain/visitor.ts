import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { isbot } from 'isbot';
import type { VisitorMeta } from '../events/types.generated.js';
import { DAY_MS } from './attribution.js';

/**
 * The visitor identity of a click: the device id when the app or redirector knows it, else a
 * keyed hash of ip + user agent. Only the keyed hash (HMAC-SHA256 with VISITOR_HASH_KEY) is
 * ever stored; the raw IP never leaves this function. A click with neither is its own visitor.
 */
export function visitorHash(visitor: VisitorMeta, hashKey: string, eventId: string): string {
  const mac = createHmac('sha256', secretKey(hashKey));
  if (visitor.deviceId) mac.update(`device\0${visitor.deviceId}`);
  else if (visitor.ip || visitor.userAgent) mac.update(`ipua\0${visitor.ip ?? ''}\0${visitor.userAgent ?? ''}`);
  else mac.update(`event\0${eventId}`);
  return mac.digest('base64url');
}

/**
 * The HMAC key as a KeyObject, made once per key text (a process has one): given as a string,
 * createHmac encodes it again for every hash (a buffer per click, 0.8% of what the ingest worker
 * allocated). The same bytes as the string's UTF-8, so the same hashes.
 */
function secretKey(text: string): KeyObject {
  if (lastKey?.text !== text) lastKey = { text, key: createSecretKey(Buffer.from(text, 'utf8')) };
  return lastKey.key;
}
let lastKey: { text: string; key: KeyObject } | undefined;

/**
 * Known bots and link-preview fetchers (chat apps and social networks unfurling a shared
 * link), as recognised by the isbot library. A click without a user agent is not a bot.
 */
export function isBotUserAgent(userAgent: string | null | undefined): boolean {
  if (!userAgent) return false;
  // A producer may send any string up to a record's size: only user agents of a real length are
  // kept, so the verdicts hold at most BOT_VERDICTS_MAX × BOT_VERDICT_KEY_MAX characters.
  if (userAgent.length > BOT_VERDICT_KEY_MAX) return isbot(userAgent);
  let verdict = botVerdicts.get(userAgent);
  if (verdict === undefined) {
    // Traffic repeats a few thousand user agents; isbot's pattern is long. Bounded: cleared when full.
    if (botVerdicts.size >= BOT_VERDICTS_MAX) botVerdicts.clear();
    verdict = isbot(userAgent);
    botVerdicts.set(userAgent, verdict);
  }
  return verdict;
}

const BOT_VERDICTS_MAX = 10_000;
/** Browsers' user agents are 100–300 characters; 1,024 leaves room and bounds the verdicts at about 20 MB. */
const BOT_VERDICT_KEY_MAX = 1_024;
const botVerdicts = new Map<string, boolean>();

/** The UTC calendar day of an instant, as YYYY-MM-DD: the unique-click period. */
export function utcDay(epochMs: number): string {
  // A lane's clicks fall on a few days, each asked for several times per click: each day's
  // text is made once (a Date and an ISO string cost 15x the lookup). Bounded: cleared when full.
  const day = Math.floor(epochMs / DAY_MS);
  let text = dayTexts.get(day);
  if (text === undefined) {
    if (dayTexts.size >= DAY_TEXTS_MAX) dayTexts.clear();
    text = new Date(day * DAY_MS).toISOString().slice(0, 10);
    dayTexts.set(day, text);
  }
  return text;
}

const DAY_TEXTS_MAX = 4_096;
const dayTexts = new Map<number, string>();

/**
 * What stands in for an erased person's device id in every table, and for the visitor hash of
 * its clicks: a keyed hash of another domain than visitorHash, so it matches later events from
 * the same device (and the counts stay as they were) without the device id or its visitor hash
 * ever being stored again.
 */
export function erasedDevicePseudonym(deviceId: string, hashKey: string): string {
  return `erased:${createHmac('sha256', secretKey(hashKey)).update(`erased-device\0${deviceId}`).digest('base64url')}`;
}
