import type { EventProducer } from '../kafka/event-producer.js';
import type { SampleTraffic } from './sample-traffic.js';

/** Publishes sample traffic in chunks, links and scopes first. Returns the number of records sent. */
export async function publishSample(producer: EventProducer, traffic: SampleTraffic, chunk = 2000, onProgress?: (sent: number) => void): Promise<number> {
  let sent = 0;
  const send = async <T>(topic: Parameters<EventProducer['send']>[0], records: T[]) => {
    for (let i = 0; i < records.length; i += chunk) {
      await producer.send(topic, records.slice(i, i + chunk) as never);
      sent += Math.min(chunk, records.length - i);
      onProgress?.(sent);
    }
  };
  await send('inviteLinks', traffic.links);
  await send('coordinatorScopes', traffic.scopes);
  await send('inviteClicks', traffic.clicks);
  await send('appInstalls', traffic.installs);
  await send('userRegistered', traffic.registrations);
  await send('userLogins', traffic.logins);
  return sent;
}
