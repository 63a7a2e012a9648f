/**
 * Whether what listens on a port is the server `make up` would reuse there: a Kafka broker (it
 * answers an ApiVersions request with its correlation id) or Redis (it answers PING in its own
 * protocol). A port taken by anything else is named as such, instead of being reused and failing
 * later, somewhere else, with an error about something else.
 *
 *   node build/infra/probe.js kafka 127.0.0.1 9092   # exit 0: a broker; 1: something else
 */
import { connect } from 'node:net';

export type ProbedServer = 'kafka' | 'redis';

const CORRELATION_ID = 0x5254_7072; // "RTpr"
const CLIENT_ID = Buffer.from('recruitment-tracking-probe');

/** An ApiVersions request, version 0 (every broker since 0.10 answers it, Kafka 4 included; one that declines a version still answers in version 0). */
function apiVersionsRequest(): Buffer {
  const body = Buffer.alloc(2 + 2 + 4 + 2 + CLIENT_ID.length);
  body.writeInt16BE(18, 0); // ApiVersions
  body.writeInt16BE(0, 2);
  body.writeInt32BE(CORRELATION_ID, 4);
  body.writeInt16BE(CLIENT_ID.length, 8);
  CLIENT_ID.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Whether the first bytes a server sent back are its kind's answer (undefined: not enough bytes yet to tell). */
function answers(server: ProbedServer, got: Buffer): boolean | undefined {
  if (server === 'redis') {
    // A whole line: +PONG, or an error such as -NOAUTH from a server that wants a password (Redis either way).
    if (!got.includes(0x0a)) return undefined;
    return got[0] === 0x2b || got[0] === 0x2d;
  }
  if (got.length < 8) return undefined;
  const size = got.readInt32BE(0);
  return size >= 6 && size < 1 << 20 && got.readInt32BE(4) === CORRELATION_ID;
}

/** Asks host:port whether it is `server`; false on anything else, a refusal, a close or no answer within `timeoutMs`. */
export function probe(server: ProbedServer, host: string, port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const socket = connect({ host, port });
    const done = (verdict: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(verdict);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('connect', () => socket.write(server === 'kafka' ? apiVersionsRequest() : 'PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]).subarray(0, 64);
      const verdict = answers(server, got);
      if (verdict !== undefined) done(verdict);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}

const [, script, server, host, port] = process.argv;
if (script?.endsWith('probe.js') && (server === 'kafka' || server === 'redis') && host && port) {
  process.exitCode = (await probe(server, host, Number(port))) ? 0 : 1;
} else if (script?.endsWith('probe.js')) {
  console.error('usage: node build/infra/probe.js kafka|redis <host> <port>');
  process.exitCode = 2;
}
