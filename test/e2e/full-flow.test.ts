import request from 'supertest';
import { decodeJwt, decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { FakeGoogle, IDENTITY_TOOLKIT_AUDIENCE } from '../../testkit/fake-google';
import { bridgeFor } from '../../testkit/harness';

describe('end to end: Google ID token → custom token → Firebase ID token → GET /v1/me', () => {
  let fake: FakeGoogle;
  beforeAll(async () => {
    fake = await FakeGoogle.start();
  });
  afterAll(() => fake.close());

  it('runs the whole flow over HTTP against the fake Google', async () => {
    const account = fake.createServiceAccount();
    const { app, logs } = bridgeFor(fake, { account });
    const googleIdToken = await fake.googleIdToken({ email: 'ada@example.com', sub: '110169484474386276334' });

    const exchange = await request(app).post('/v1/token/google').send({ idToken: googleIdToken }).expect(200);
    expect(exchange.body).toEqual({ customToken: expect.any(String), uid: 'google:110169484474386276334', expiresIn: 3600 });

    // The custom token is what Google documents, checked independently with jose.
    const { customToken } = exchange.body as { customToken: string };
    expect(decodeProtectedHeader(customToken)).toMatchObject({ alg: 'RS256', kid: account.key.kid });
    const spki = await importSPKI(account.key.publicKey.export({ type: 'spki', format: 'pem' }) as string, 'RS256');
    const { payload } = await jwtVerify(customToken, spki, {
      algorithms: ['RS256'],
      issuer: account.clientEmail,
      subject: account.clientEmail,
      audience: IDENTITY_TOOLKIT_AUDIENCE,
    });
    expect(payload.uid).toBe('google:110169484474386276334');
    expect((payload.exp as number) - (payload.iat as number)).toBeLessThanOrEqual(3600);
    expect(payload.claims).toEqual({
      google_sub: '110169484474386276334',
      email: 'ada@example.com',
      email_verified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/photo',
    });

    // The fake Identity Toolkit accepts it and returns a Firebase ID token.
    const signIn = await fetch(fake.signInWithCustomTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: customToken, returnSecureToken: true }),
    });
    expect(fake.signInRejections).toEqual([]);
    expect(signIn.status).toBe(200);
    const { idToken } = (await signIn.json()) as { idToken: string };

    const me = await request(app).get('/v1/me').set('Authorization', `Bearer ${idToken}`).expect(200);
    expect(me.body.uid).toBe('google:110169484474386276334');
    expect(me.body.claims).toMatchObject({ email: 'ada@example.com', email_verified: true, aud: fake.projectId });

    // Nothing secret reached the logs.
    for (const secret of [googleIdToken, customToken, idToken, account.json.private_key as string]) {
      expect(logs.text).not.toContain(secret);
      expect(logs.text).not.toContain(secret.split('.')[2] ?? secret);
    }
    expect(logs.text).toContain('custom token issued');
  });

  it('the same Google account always gets the same uid; another account another uid', async () => {
    const { app } = bridgeFor(fake);
    const uidOf = async (sub: string) =>
      (await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken({ sub }) }).expect(200)).body.uid;
    const first = await uidOf('100000000000000000001');
    expect(await uidOf('100000000000000000001')).toBe(first);
    expect(await uidOf('100000000000000000002')).not.toBe(first);
  });

  it('a custom token signed by a service account of another project is refused by Google, and the bridge refuses to start with it', async () => {
    const foreign = fake.createServiceAccount('other-project-1');
    expect(() => bridgeFor(fake, { account: foreign })).toThrow(/FIREBASE_PROJECT_ID/);
  });

  it('decodes to the documented custom-token claims only', async () => {
    const { app } = bridgeFor(fake);
    const res = await request(app).post('/v1/token/google').send({ idToken: await fake.googleIdToken() }).expect(200);
    const payload = decodeJwt(res.body.customToken);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'claims', 'exp', 'iat', 'iss', 'sub', 'uid']);
  });
});
