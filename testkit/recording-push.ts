import type { PushMessage, PushSender } from '../src/auth/push-sender';
import { PushFailedError, type PushFailureReason } from '../src/errors';

/**
 * A PushSender for tests: records each message it sends (as FCM would receive it: `{"message": ...}`), and can be
 * told to fail the next sends with a PushFailedError of a given reason (and retryAfterSeconds), as the FCM client
 * does for FCM's error codes.
 */
export class RecordingPush implements PushSender {
  /** Every message sent, oldest first, as the body FCM would have received. */
  readonly sent: Array<{ message: PushMessage; validateOnly: boolean }> = [];
  private failure?: { reason: PushFailureReason; retryAfterSeconds?: number; times: number };
  private counter = 0;

  constructor(readonly projectId = 'demo-firebridge') {}

  /** The next `times` sends (default: every one until `succeed()`) fail with this reason; nothing is recorded. */
  failWith(reason: PushFailureReason, retryAfterSeconds?: number, times = Number.POSITIVE_INFINITY): this {
    this.failure = { reason, retryAfterSeconds, times };
    return this;
  }

  succeed(): this {
    this.failure = undefined;
    return this;
  }

  async send(message: PushMessage, options: { validateOnly?: boolean } = {}): Promise<{ name: string }> {
    if (this.failure && this.failure.times > 0) {
      this.failure.times -= 1;
      const { reason, retryAfterSeconds } = this.failure;
      throw new PushFailedError(`FCM refused the message (${reason})`, reason, retryAfterSeconds);
    }
    // A deep copy: what was sent, whatever the caller does with its object later.
    this.sent.push({ message: JSON.parse(JSON.stringify(message)) as PushMessage, validateOnly: options.validateOnly === true });
    this.counter += 1;
    return { name: `projects/${this.projectId}/messages/${this.counter}` };
  }

  /** The messages sent, newest last. */
  get messages(): PushMessage[] {
    return this.sent.map((entry) => entry.message);
  }

  /** The last message sent to this device token (throws when there is none). */
  lastTo(fcmToken: string): PushMessage & { data: Record<string, string> } {
    const found = [...this.messages].reverse().find((message) => message.token === fcmToken);
    if (!found) throw new Error('no message was sent to this device token');
    return found as PushMessage & { data: Record<string, string> };
  }
}
