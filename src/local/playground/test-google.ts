/**
 * The playground's stand-in for Google Identity Services: local mode's test Google mints a Google ID token for
 * whichever test user the form names (POST /local/google/id-token). A real app gets this token from Google instead
 * (docs/clients/web.md); everything after it is bridge-client.ts, the same code in both.
 */
export interface TestUser {
  email?: string;
  name?: string;
  /** The Google account ID; local mode derives one from the email when it is left out. */
  sub?: string;
  /** The nonce the bridge issued for this sign-in (the ID token's `nonce` claim). */
  nonce?: string;
}

export async function testGoogleIdToken(bridgeUrl: string, user: TestUser): Promise<string> {
  const body = Object.fromEntries(Object.entries(user).filter(([, value]) => value !== undefined && value !== ''));
  const res = await fetch(`${bridgeUrl}/local/google/id-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json().catch(() => ({}))) as { idToken?: string; error?: string; error_description?: string };
  if (!res.ok || typeof json.idToken !== 'string') {
    throw new Error(`local Google refused: ${res.status} ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
  }
  return json.idToken;
}
