import { InvalidRequestError } from '../../src/errors';
import { validatePushMessage } from '../../src/auth/push-message';

/** The shape check of an FCM v1 Message: what FCM accepts passes unchanged; what it would refuse is named. */
describe('validatePushMessage', () => {
  it('a full message of every platform passes, unchanged (snake_case and camelCase field names)', () => {
    const message = {
      token: 'fcm-token:APA91b-xyz_123',
      notification: { title: 'Incoming call', body: 'from 1001', image: 'https://example.com/a.png' },
      data: { call_id: '42', caller: '1001' },
      android: { priority: 'high', ttl: '30s', collapse_key: 'call', data: { a: 'b' }, notification: { channel_id: 'calls', sound: 'ring' }, fcm_options: { analytics_label: 'x' } },
      apns: { headers: { 'apns-priority': '10', 'apns-push-type': 'voip' }, payload: { aps: { 'content-available': 1 } }, fcmOptions: { image: 'https://example.com/b.png' } },
      webpush: { headers: { TTL: '60' }, data: { k: 'v' }, notification: { requireInteraction: true }, fcm_options: { link: 'https://example.com' } },
      fcmOptions: { analyticsLabel: 'calls' },
    };
    const copy = JSON.parse(JSON.stringify(message)) as unknown;
    expect(validatePushMessage(message)).toBe(message);
    expect(message).toEqual(copy);
    expect(validatePushMessage({ topic: '/topics/news' })).toEqual({ topic: '/topics/news' });
    expect(validatePushMessage({ condition: "'a' in topics && 'b' in topics" })).toBeDefined();
  });

  it.each([
    [null, '"message" must be an FCM v1 Message object'],
    [[], '"message" must be an FCM v1 Message object'],
    [{ token: '' }, '"message.token" must be a non-empty string'],
    [{ token: 'a', condition: 'c' }, '"message" must have exactly one of "token", "topic", "condition" (found token, condition)'],
    [{ token: 'has space' }, '"message.token" must be printable ASCII of at most 4096 characters'],
    [{ token: 'x'.repeat(4097) }, '"message.token" must be printable ASCII of at most 4096 characters'],
    [{ token: 'a', data: { ok: 'y', n: 5 } }, '"message.data.n" must be a string (FCM data values are strings)'],
    [{ token: 'a', data: ['x'] }, '"message.data" must be an object'],
    [{ token: 'a', notification: { title: 7 } }, '"message.notification.title" must be a string'],
    [{ token: 'a', android: { ttl: '1 hour' } }, '"message.android.ttl" must be a duration in seconds, e.g. "3600s"'],
    [{ token: 'a', android: { data: { x: true } } }, '"message.android.data.x" must be a string (FCM data values are strings)'],
    [{ token: 'a', apns: { payload: 'aps' } }, '"message.apns.payload" must be an object'],
    [{ token: 'a', webpush: { data: { x: null } } }, '"message.webpush.data.x" must be a string (FCM data values are strings)'],
    [{ token: 'a', fcm_options: { analytics_label: 1 } }, '"message.fcm_options.analytics_label" must be a string'],
    [{ token: 'a', priority: 'high' }, '"message.priority" is not a field of an FCM v1 Message'],
  ])('%j is refused: %s', (message, description) => {
    let err: unknown;
    try {
      validatePushMessage(message);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err as Error).message).toBe(description);
  });
});
