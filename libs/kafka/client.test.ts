import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { kafkaSecurity } from './client.js';

describe('kafkaSecurity', () => {
  it('gives no TLS and no SASL for the local stack', () => {
    expect(kafkaSecurity(loadConfig({}).kafka.security)).toEqual({});
  });

  it('gives TLS against the system CAs for KAFKA_SSL=true, with SASL when a mechanism is set', () => {
    const security = loadConfig({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'PLAIN', KAFKA_SASL_USERNAME: 'api-key', KAFKA_SASL_PASSWORD: 'api-secret' }).kafka.security;
    expect(kafkaSecurity(security)).toEqual({ ssl: true, sasl: { mechanism: 'plain', username: 'api-key', password: 'api-secret' } });
  });

  it('trusts only the CA of the file, and checks the broker certificate', () => {
    const security = { ssl: { caFile: '/etc/kafka/ca.pem', ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }, sasl: undefined };
    expect(kafkaSecurity(security)).toEqual({ ssl: { ca: [security.ssl.ca], rejectUnauthorized: true } });
  });

  it('passes SCRAM credentials as kafkajs wants them, without TLS when none is asked for', () => {
    const security = loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw' }).kafka.security;
    expect(kafkaSecurity(security)).toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' } });
  });
});
