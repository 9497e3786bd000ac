import type Redis from 'ioredis';
import { type RedisTarget, closeRedis, connectRedis } from './redis-store';

/**
 * Revocations announced between the instances sharing one Redis, over pub/sub on `<prefix>revocations`.
 * Publishing uses a command connection; listening needs a connection of its own (a subscribed connection
 * can run nothing else). While the subscriber is not connected, messages are lost: `listening()` says so,
 * and each (re)subscription is reported as `undefined` ("anything may have changed"), so the listener
 * forgets everything it cached. Implements the port `RevocationAnnouncements` of src/auth/revocation.ts.
 */
export class RedisRevocationBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly channel: string;
  private readonly listeners: Array<(uid: string | undefined) => void> = [];
  private subscribed = false;
  private closed = false;

  constructor(target: RedisTarget | string, prefix = 'firebridge:', options: { commandTimeoutMs?: number } = {}) {
    this.channel = `${prefix}revocations`;
    this.publisher = connectRedis(target, options.commandTimeoutMs);
    // No command timeout on the subscriber: it waits for messages, it sends nothing but SUBSCRIBE.
    this.subscriber = connectRedis(target, 0);
    this.subscriber.on('ready', () => {
      // ioredis re-subscribes by itself on reconnect (autoResubscribe); subscribe explicitly once so the
      // first 'ready' subscribes too, and treat every later one as "messages may have been missed".
      this.subscriber.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          this.emit(undefined);
        },
        () => undefined,
      );
    });
    this.subscriber.on('close', () => {
      this.subscribed = false;
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel && message.length > 0 && message.length <= 128) this.emit(message);
    });
  }

  /** Tells every instance (this one included) that the user's sessions were revoked. */
  async announce(uid: string): Promise<void> {
    await this.publisher.publish(this.channel, uid);
  }

  /** `uid` when one user was revoked; `undefined` after a (re)subscription: forget every user. */
  onRevoked(listener: (uid: string | undefined) => void): void {
    this.listeners.push(listener);
  }

  /** Whether announcements are being received now (the subscriber is connected and subscribed). */
  listening(): boolean {
    return this.subscribed && !this.closed && this.subscriber.status === 'ready';
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subscribed = false;
    await Promise.all([closeRedis(this.subscriber), closeRedis(this.publisher)]);
  }

  private emit(uid: string | undefined): void {
    for (const listener of this.listeners) listener(uid);
  }
}
