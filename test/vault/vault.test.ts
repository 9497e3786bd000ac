import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { InsufficientScopeError, NotLinkedError, ReauthRequiredError, VaultIntegrityError, VaultKeyError, DependencyUnavailableError } from '../../src/errors';
import { uidForGoogleSub } from '../../src/auth/uid';
import type { VaultRepository, VaultRow } from '../../src/vault/repository';
import { FakeOAuth } from '../../testkit/fake-oauth';
import { manualClock } from '../../testkit/harness';
import { BACKENDS, openRepository, vaultKeyFile, vaultOn } from '../../testkit/vault';

const SUB = '110169484474386276334';
const UID = uidForGoogleSub(SUB);
const DRIVE = 'https://www.googleapis.com/auth/drive.file';

/** Every byte the backend stores for the vault, as text (the SQLite files, or the PostgreSQL rows). */
async function rawBytes(backend: string, file: string | undefined, schema: string | undefined): Promise<string> {
  if (backend === 'sqlite') {
    const dir = path.dirname(file as string);
    return readdirSync(dir).map((name) => readFileSync(path.join(dir, name)).toString('latin1')).join('\n');
  }
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query(`SELECT t::text AS t, encode(ciphertext, 'escape') AS c FROM ${schema}.google_vault t`);
  await client.end();
  return JSON.stringify(rows);
}

describe.each(BACKENDS)('the Google vault on %s', (backend) => {
  let oauth: FakeOAuth;
  let repository: VaultRepository;
  let drop: () => Promise<void>;
  let file: string | undefined;
  let schema: string | undefined;
  let keysFile: string;
  beforeAll(async () => {
    oauth = await FakeOAuth.start();
  });
  afterAll(() => oauth.close());
  beforeEach(async () => {
    ({ repository, drop, file, schema } = await openRepository(backend));
    keysFile = vaultKeyFile();
  });
  afterEach(() => drop());

  it('links from a code (sent once, with the client secret) and stores no plaintext refresh token', async () => {
    const { vault, logs } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    const code = oauth.issueCode({ sub: SUB });
    const hitsBefore = oauth.exchangeHits;
    expect(await vault.link(UID, SUB, code, '')).toEqual({ linked: true, scopes: ['openid', DRIVE] });
    expect(oauth.exchangeHits - hitsBefore).toBe(1);
    expect(oauth.redirectUris.at(-1)).toBe('');
    const row = (await repository.get(UID)) as VaultRow;
    expect(row.googleSub).toBe(SUB);
    const refreshToken = [...oauth.refreshTokens.keys()].at(-1) as string;
    const raw = await rawBytes(backend, file, schema);
    expect(raw).toContain(UID); // the grep reads the right bytes
    expect(raw).not.toContain(refreshToken);
    expect(raw).not.toContain(refreshToken.slice(4, 20));
    expect(logs.text).not.toContain(refreshToken);
    expect(logs.text).not.toContain(code);
  });

  it('mints access tokens: cached until 2 minutes before expiry, then refreshed; the scope is checked', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    const before = oauth.refreshHits;
    const first = await vault.accessTokenFor(UID, { scope: DRIVE });
    expect(oauth.refreshHits).toBe(before); // the link's own access token is cached
    clock.advance(3600_000 - 121_000);
    expect((await vault.accessTokenFor(UID)).accessToken).toBe(first.accessToken);
    expect(oauth.refreshHits).toBe(before);
    clock.advance(2000); // now inside the last two minutes
    const second = await vault.accessTokenFor(UID);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(oauth.refreshHits).toBe(before + 1);
    expect(new Date(second.expiresAt).getTime()).toBeGreaterThan(clock() + 3500_000);
    expect((await repository.get(UID))?.lastUsedAt).toBe(clock());
    await expect(vault.accessTokenFor(UID, { scope: 'https://www.googleapis.com/auth/calendar' })).rejects.toBeInstanceOf(InsufficientScopeError);
    expect(await vault.linkedScopes(UID)).toEqual(['openid', DRIVE]);
  });

  it('one refresh for 50 concurrent requests of a user', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    clock.advance(3600_000); // the link's token is stale
    oauth.refreshDelayMs = 50;
    const before = oauth.refreshHits;
    const answers = await Promise.all(Array.from({ length: 50 }, () => vault.accessTokenFor(UID)));
    oauth.refreshDelayMs = 0;
    expect(oauth.refreshHits - before).toBe(1);
    expect(new Set(answers.map((a) => a.accessToken)).size).toBe(1);
  });

  it('invalid_grant on refresh: the row is deleted, reauth_required, and no retry', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    oauth.revokeAllOf(SUB);
    clock.advance(3600_000);
    const before = oauth.refreshHits;
    await expect(vault.accessTokenFor(UID)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(oauth.refreshHits - before).toBe(1);
    expect(await repository.get(UID)).toBeUndefined();
    await expect(vault.accessTokenFor(UID)).rejects.toBeInstanceOf(NotLinkedError);
    // firebridge_vault_refreshes_total: Google's refusal, then an attempt with no link left.
    expect(vault.refreshes.entries()).toEqual([
      { outcome: 'success', reason: 'none', count: 0 },
      { outcome: 'refused', reason: 'ERR_REAUTH_REQUIRED', count: 1 },
      { outcome: 'refused', reason: 'ERR_NOT_LINKED', count: 1 },
    ]);
  });

  it('invalid_grant on a refresh that a new link overtook: the new link is kept', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    oauth.revokeAllOf(SUB);
    clock.advance(3600_000);
    oauth.refreshDelayMs = 100;
    const refreshing = vault.accessTokenFor(UID);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the refresh (with the old token) is at Google
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '')).toMatchObject({ linked: true });
    await expect(refreshing).rejects.toBeInstanceOf(ReauthRequiredError);
    oauth.refreshDelayMs = 0;
    expect(await repository.get(UID)).toBeDefined();
    expect((await vault.accessTokenFor(UID)).accessToken).toMatch(/./);
  });

  it('unlink while a refresh is in flight: the refreshed token is not cached for the unlinked user', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    clock.advance(3600_000);
    oauth.refreshDelayMs = 100;
    const refreshing = vault.accessTokenFor(UID);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await vault.unlink(UID)).toBe(true);
    await refreshing; // answers the request that asked before the unlink
    oauth.refreshDelayMs = 0;
    await expect(vault.accessTokenFor(UID)).rejects.toBeInstanceOf(NotLinkedError);
  });

  it('a second consent without a refresh token caches its access token with the scopes it granted', async () => {
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB, scopes: ['openid', DRIVE] }), '');
    const narrower = oauth.issueCode({ sub: SUB, scopes: ['openid'], withRefreshToken: false });
    expect(await vault.link(UID, SUB, narrower, '')).toEqual({ linked: true, scopes: ['openid', DRIVE] });
    await expect(vault.accessTokenFor(UID, { scope: DRIVE })).rejects.toBeInstanceOf(InsufficientScopeError);
  });

  it('Google down on refresh: 503 (DependencyUnavailableError), the row kept', async () => {
    const clock = manualClock();
    const { vault } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    clock.advance(3600_000);
    oauth.failNext = 1;
    await expect(vault.accessTokenFor(UID)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await repository.get(UID)).toBeDefined();
    expect((await vault.accessTokenFor(UID)).accessToken).toMatch(/^ya29\./);
    expect(vault.refreshes.count('error', 'ERR_DEPENDENCY_UNAVAILABLE')).toBe(1);
    expect(vault.refreshes.count('success')).toBe(1);
    // A cached answer is no refresh.
    await vault.accessTokenFor(UID);
    expect(vault.refreshes.count('success')).toBe(1);
  });

  it('unlink revokes at Google, then deletes; Google down keeps the row', async () => {
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    const refreshToken = [...oauth.refreshTokens.keys()].at(-1) as string;
    oauth.failRevokes = 1;
    await expect(vault.unlink(UID)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await repository.get(UID)).toBeDefined();
    expect(await vault.unlink(UID)).toBe(true);
    expect(oauth.refreshTokens.get(refreshToken)?.revoked).toBe(true);
    expect(await repository.get(UID)).toBeUndefined();
    expect(await vault.unlink(UID)).toBe(false);
  });

  it('a code of another Google account (or one without an ID token) is not linked', async () => {
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB, idTokenSub: '999' }), '')).toEqual({ linked: false, reason: 'account_mismatch' });
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB, idTokenSub: 'none' }), '')).toEqual({ linked: false, reason: 'account_mismatch' });
    expect(await repository.get(UID)).toBeUndefined();
  });

  it('no refresh token on a second consent: an existing link is kept, else no_refresh_token', async () => {
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB, withRefreshToken: false }), '')).toEqual({ linked: false, reason: 'no_refresh_token' });
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    const kept = (await repository.get(UID)) as VaultRow;
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB, withRefreshToken: false }), 'postmessage')).toEqual({ linked: true, scopes: ['openid', DRIVE] });
    expect(oauth.redirectUris.at(-1)).toBe('postmessage');
    expect((await repository.get(UID))?.envelope).toEqual(kept.envelope);
  });

  it('a refused or unreachable code exchange leaves an existing link as it was', async () => {
    const { vault } = vaultOn(repository, oauth, keysFile);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    const kept = (await repository.get(UID)) as VaultRow;
    const used = oauth.issueCode({ sub: SUB });
    await vault.link(UID, SUB, used, '');
    const afterSecond = (await repository.get(UID)) as VaultRow;
    expect(await vault.link(UID, SUB, used, '')).toEqual({ linked: false, reason: 'invalid_grant' });
    oauth.failNext = 1;
    expect(await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '')).toEqual({ linked: false, reason: 'unavailable' });
    expect((await repository.get(UID))?.envelope).toEqual(afterSecond.envelope);
    expect(afterSecond.createdAt).toBe(kept.createdAt);
  });

  it('a row moved onto another uid (or tampered) does not decrypt: never served, logged as an error', async () => {
    const clock = manualClock();
    const { vault, logs } = vaultOn(repository, oauth, keysFile, clock);
    await vault.start(keysFile);
    await vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    const row = (await repository.get(UID)) as VaultRow;
    await repository.put({ ...row, uid: 'google:attacker' });
    await expect(vault.accessTokenFor('google:attacker')).rejects.toBeInstanceOf(VaultIntegrityError);
    const tag = Buffer.from(row.envelope.tag);
    tag[0] = (tag[0] as number) ^ 1;
    await repository.put({ ...row, envelope: { ...row.envelope, tag } });
    clock.advance(3600_000);
    await expect(vault.accessTokenFor(UID)).rejects.toBeInstanceOf(VaultIntegrityError);
    expect(logs.entries().filter((e) => e.level === 50 && /vault integrity/.test(String(e.msg)))).toHaveLength(2);
  });

  it('start-up refuses a wrong key file, or one lacking a key rows use', async () => {
    const first = vaultOn(repository, oauth, keysFile);
    await first.vault.start(keysFile);
    await first.vault.link(UID, SUB, oauth.issueCode({ sub: SUB }), '');
    // Same key id, other key bytes: a wrong key file.
    const text = JSON.parse(readFileSync(keysFile, 'utf8'));
    text.keys[0].key = Buffer.alloc(32, 7).toString('base64');
    const wrong = path.join(path.dirname(keysFile), 'wrong.json');
    writeFileSync(wrong, JSON.stringify(text));
    await expect(vaultOn(repository, oauth, wrong).vault.start(wrong)).rejects.toThrow(VaultKeyError);
    await expect(vaultOn(repository, oauth, wrong).vault.start(wrong)).rejects.toThrow(/not the key the vault's rows were sealed with/);
    // Another file altogether: its key never sealed a row, and the rows' key is missing.
    const other = vaultKeyFile();
    await expect(vaultOn(repository, oauth, other).vault.start(other)).rejects.toThrow(/lacks data key vk-/);
  });
});
