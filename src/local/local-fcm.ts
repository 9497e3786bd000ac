import { randomBytes } from 'node:crypto';
import { validatePushMessage } from '../auth/push-message';
import type { PushMessage, PushSender } from '../auth/push-sender';
import type { Clock } from '../clock';
import { InvalidRequestError, PushFailedError } from '../errors';

/** Most messages local mode's fake FCM keeps (the oldest is dropped first). */
export const LOCAL_FCM_MAX_MESSAGES = 100;

/** A message as FCM would have received it: the request body, and the name FCM answered. */
export interface LocalFcmMessage {
  name: string;
  message: PushMessage;
  validate_only?: true;
  /** When it was sent (ISO 8601), on the server's clock. */
  sentAt: string;
}

/**
 * Local mode's PushSender: a fake FCM that delivers nothing and records every message it is given
 * (GET /local/fcm/messages lists them, newest last), so a device sign-in can be walked through with
 * curl. Bounded: the newest LOCAL_FCM_MAX_MESSAGES are kept. A message FCM would refuse for its
 * shape is refused the same way (reason invalid_argument).
 */
export class LocalFcm implements PushSender {
  private readonly recorded: LocalFcmMessage[] = [];

  constructor(
    private readonly projectId: string,
    private readonly clock: Clock,
    private readonly maxMessages = LOCAL_FCM_MAX_MESSAGES,
  ) {}

  async send(message: PushMessage, options: { validateOnly?: boolean } = {}): Promise<{ name: string }> {
    try {
      validatePushMessage(message);
    } catch (err) {
      if (err instanceof InvalidRequestError) throw new PushFailedError(`local FCM: ${err.message}`, 'invalid_argument');
      throw err;
    }
    const name = `projects/${this.projectId}/messages/${options.validateOnly ? 'fake_message_id' : `0:${this.clock()}%${randomBytes(8).toString('hex')}`}`;
    // A copy: later changes by the caller do not rewrite what "FCM" received.
    const received = JSON.parse(JSON.stringify(message)) as PushMessage;
    this.recorded.push({ name, message: received, ...(options.validateOnly ? { validate_only: true as const } : {}), sentAt: new Date(this.clock()).toISOString() });
    if (this.recorded.length > this.maxMessages) this.recorded.splice(0, this.recorded.length - this.maxMessages);
    return { name };
  }

  /** Every message kept, oldest first (newest last). */
  messages(): LocalFcmMessage[] {
    return [...this.recorded];
  }
}
