import { PushFailedError } from '../errors';
import { OutcomeCounts } from '../outcomes';
import type { PushMessage, PushSender } from './push-sender';

/**
 * Every push of the server goes through this (device codes, the push relay): sends by outcome and
 * reason (firebridge_fcm_sends_total), the reason being FCM's PushFailureReason (`unregistered`,
 * `quota_exceeded`...) or, for other failures, the error code. validateOnly sends are counted too.
 */
export class CountingPushSender implements PushSender {
  readonly outcomes = new OutcomeCounts();

  constructor(readonly inner: PushSender) {}

  async send(message: PushMessage, options?: { validateOnly?: boolean }): Promise<{ name: string }> {
    try {
      const sent = await this.inner.send(message, options);
      this.outcomes.succeeded();
      return sent;
    } catch (err) {
      this.outcomes.failed(err, err instanceof PushFailedError ? err.reason : undefined);
      throw err;
    }
  }
}
