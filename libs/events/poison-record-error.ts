/**
 * A record that can never be decoded or is not a valid event. It goes to the dead-letter topic;
 * retrying it would fail the same way.
 */
export class PoisonRecordError extends Error {
  override name = 'PoisonRecordError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
