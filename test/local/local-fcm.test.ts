import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createDependencies } from '../../src/compose/dependencies';
import { ConfigError, loadConfig } from '../../src/config';
import { PushFailedError } from '../../src/errors';
import { createApp } from '../../src/http/app';
import { LocalFcm } from '../../src/local/local-fcm';
import { createLogger } from '../../src/logger';
import { LogCapture, manualClock } from '../../testkit/harness';

/** Local mode's fake FCM: the PushSender of local mode, recording what FCM would have received. */
describe("local mode's fake FCM", () => {
  const localBridge = () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-localfcm-'));
    const config = loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys') }, tmp);
    const clock = manualClock(Date.parse('2026-03-01T12:00:00Z'));
    const deps = createDependencies(config, { logger: createLogger('silent', new LogCapture()), clock, fetch: globalThis.fetch });
    return { app: createApp(config, deps), deps, clock };
  };

  it('Dependencies.push records each message; GET /local/fcm/messages lists them newest last, as FCM received them', async () => {
    const { app, deps, clock } = localBridge();
    // Every push goes through the recording fake, counted for the metrics on the way.
    expect((deps.push as unknown as { inner: unknown }).inner).toBe(deps.localFcm);
    const first = await deps.push.send({ token: 'dev-1', data: { code: '111111' } });
    clock.advance(1000);
    const second = await deps.push.send({ topic: 'news', notification: { title: 'T' } }, { validateOnly: true });
    expect(first.name).toMatch(/^projects\/demo-firebridge\/messages\/0:/);
    expect(second.name).toBe('projects/demo-firebridge/messages/fake_message_id');
    const res = await request(app).get('/local/fcm/messages').expect(200);
    expect(res.body).toEqual({
      messages: [
        { name: first.name, message: { token: 'dev-1', data: { code: '111111' } }, sentAt: '2026-03-01T12:00:00.000Z' },
        { name: second.name, message: { topic: 'news', notification: { title: 'T' } }, validate_only: true, sentAt: '2026-03-01T12:00:01.000Z' },
      ],
    });
    await request(app).post('/local/fcm/messages').expect(405);
  });

  it("the README's device sign-in walkthrough: challenge, read the code from GET /local/fcm/messages, verify", async () => {
    const { app } = localBridge();
    const fcmToken = `local-install-${'x'.repeat(40)}`;
    const challenge = await request(app).post('/v1/device/challenge').send({ fcmToken }).expect(202);
    const { messages } = (await request(app).get('/local/fcm/messages').expect(200)).body as {
      messages: Array<{ message: { token: string; data: Record<string, string> } }>;
    };
    const pushed = messages.at(-1)!.message;
    expect(pushed.token).toBe(fcmToken);
    expect(pushed.data).toMatchObject({ type: 'firebridge.device_code', challengeId: challenge.body.challengeId });
    expect(pushed.data.code).toMatch(/^\d{6}$/);
    const verified = await request(app)
      .post('/v1/device/verify')
      .send({ challengeId: challenge.body.challengeId, code: pushed.data.code })
      .expect(200);
    expect(verified.body.uid).toMatch(/^device:[A-Za-z0-9_-]{43}$/);
    await request(app).post('/v1/device/verify').send({ challengeId: challenge.body.challengeId, code: pushed.data.code }).expect(401);
  });

  it('a message FCM would refuse for its shape is refused (invalid_argument) and not recorded', async () => {
    const fcm = new LocalFcm('demo-firebridge', manualClock());
    const err = await fcm.send({ token: 'a', data: { n: 1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushFailedError);
    expect((err as PushFailedError).reason).toBe('invalid_argument');
    expect(fcm.messages()).toEqual([]);
  });

  it('bounded: only the newest messages are kept, and what is kept is a copy', async () => {
    const fcm = new LocalFcm('demo-firebridge', manualClock(), 3);
    const data = { i: '0' };
    for (let i = 0; i < 5; i++) {
      data.i = String(i);
      await fcm.send({ token: `dev-${i}`, data });
    }
    expect(fcm.messages().map((m) => [m.message.token, (m.message.data as { i: string }).i])).toEqual([
      ['dev-2', '2'],
      ['dev-3', '3'],
      ['dev-4', '4'],
    ]);
  });

  it('the push relay and FCM settings are deployment-only: with any of them set, local mode does not start', () => {
    for (const name of ['PUSH_API_TOKEN', 'FCM_API_URL', 'FCM_MAX_RETRIES', 'FCM_TIMEOUT_MS']) {
      const tmp = mkdtempSync(path.join(tmpdir(), 'firebridge-localfcm-'));
      let err: unknown;
      try {
        loadConfig({ LOCAL_STATE_DIR: path.join(tmp, '.local'), KEYS_DIR: path.join(tmp, 'nokeys'), [name]: 'x' }, tmp);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(name);
    }
  });
});
