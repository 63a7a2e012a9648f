import type { EventProducer } from '../../libs/kafka/event-producer.js';
import type { SampleTraffic } from '../../libs/sample/sample-traffic.js';
import { prng } from '../../libs/sample/sample-traffic.js';

/** The first or the second half of the traffic's events (every link and scope in both), for a fault in between. */
export function trafficHalf(traffic: SampleTraffic, first: boolean): SampleTraffic {
  const half = <T>(xs: T[]) => (first ? xs.slice(0, Math.floor(xs.length / 2)) : xs.slice(Math.floor(xs.length / 2)));
  return { links: traffic.links, scopes: traffic.scopes, clicks: half(traffic.clicks), installs: half(traffic.installs), registrations: half(traffic.registrations), logins: half(traffic.logins) };
}

/**
 * Publishes sample traffic in a seeded random order across topics: registrations before the
 * clicks that explain them, logins before registrations, links long after their clicks, and
 * each chunk one send per topic, as several upstream services would. Returns how many records
 * were sent.
 */
export async function publishOutOfOrder(producer: EventProducer, traffic: SampleTraffic, seed: number, chunk = 250): Promise<number> {
  const rnd = prng(seed);
  type Item = { topic: Parameters<EventProducer['send']>[0]; record: unknown };
  const items: Item[] = [
    ...traffic.links.map((record) => ({ topic: 'inviteLinks' as const, record })),
    ...traffic.scopes.map((record) => ({ topic: 'coordinatorScopes' as const, record })),
    ...traffic.clicks.map((record) => ({ topic: 'inviteClicks' as const, record })),
    ...traffic.installs.map((record) => ({ topic: 'appInstalls' as const, record })),
    ...traffic.registrations.map((record) => ({ topic: 'userRegistered' as const, record })),
    ...traffic.logins.map((record) => ({ topic: 'userLogins' as const, record })),
  ];
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j] as Item, items[i] as Item];
  }
  for (let i = 0; i < items.length; i += chunk) {
    const slice = items.slice(i, i + chunk);
    for (const topic of new Set(slice.map((x) => x.topic))) await producer.send(topic, slice.filter((x) => x.topic === topic).map((x) => x.record) as never);
  }
  return items.length;
}
