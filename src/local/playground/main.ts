/**
 * The playground page (GET / in local mode): the form, the buttons, and a list of steps showing every token
 * decoded. The calls themselves are bridge-client.ts (the web guide's code) and test-google.ts (local mode's
 * test Google, standing in for Google Identity Services). Text only reaches the page as textContent.
 */
import { BridgeClient } from './bridge-client';
import { decodeJwt } from './jwt-view';
import { testGoogleIdToken } from './test-google';

// The bridge's own page (GET /) calls its own origin. A copy served elsewhere (a dev server on localhost, as the
// browser test does) names the bridge in <meta name="firebridge-url" content="http://127.0.0.1:8080">.
const bridgeUrl = document.querySelector<HTMLMetaElement>('meta[name="firebridge-url"]')?.content || window.location.origin;
// Local mode is its own Auth Emulator: any API key, and the SDK talks to the bridge only.
const client = new BridgeClient({ bridgeUrl, firebase: { apiKey: 'local-mode' }, emulator: true });

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

const form = byId<HTMLFormElement>('sign-in');
const signInButton = byId<HTMLButtonElement>('sign-in-button');
const refreshButton = byId<HTMLButtonElement>('refresh');
const signOutButton = byId<HTMLButtonElement>('sign-out');
const statusLine = byId<HTMLParagraphElement>('status');
const steps = byId<HTMLOListElement>('steps');

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

function time(seconds: unknown): string {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : '(none)';
}

/** One step of the flow, shown as it runs: pending, then done (with what it produced) or failed. */
class Step {
  readonly node: HTMLLIElement;

  constructor(name: string, title: string, note: string) {
    this.node = element('li', undefined, 'step pending');
    this.node.dataset.step = name;
    this.node.append(element('h2', title), element('p', note, 'note'));
    steps.append(this.node);
  }

  token(label: string, token: string): this {
    const { header, claims } = decodeJwt(token);
    const raw = element('details');
    raw.append(element('summary', `${label} (${token.length} characters)`), element('code', token, 'raw'));
    this.node.append(
      raw,
      element('h3', 'header'),
      element('pre', json(header), 'header'),
      element('h3', 'claims'),
      element('pre', json(claims), 'claims'),
      element('p', `issued ${time(claims.iat)}, expires ${time(claims.exp)}`, 'times'),
    );
    return this;
  }

  value(label: string, value: unknown, className = 'json'): this {
    this.node.append(element('h3', label), element('pre', typeof value === 'string' ? value : json(value), className));
    return this;
  }

  done(): void {
    this.node.classList.replace('pending', 'done');
  }

  fail(err: unknown): void {
    this.node.classList.replace('pending', 'failed');
    this.node.append(element('p', err instanceof Error ? err.message : String(err), 'error'));
  }
}

async function run(title: string, stepName: string, note: string, work: (step: Step) => Promise<void>): Promise<void> {
  const step = new Step(stepName, title, note);
  try {
    await work(step);
    step.done();
  } catch (err) {
    step.fail(err);
    throw err;
  }
}

function setStatus(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', error);
}

let working = false;

function updateButtons(): void {
  const signedIn = client.auth.currentUser !== null;
  signInButton.disabled = working;
  refreshButton.disabled = working || !signedIn;
  signOutButton.disabled = working || !signedIn;
}

function busy(on: boolean): void {
  working = on;
  updateButtons();
}

function input(id: string): string {
  return byId<HTMLInputElement>(id).value.trim();
}

let lastIdToken: string | undefined;

async function signIn(): Promise<void> {
  steps.replaceChildren();
  let nonce = '';
  let googleIdToken = '';
  let customToken = '';
  const nonceNote = 'POST /v1/nonce: single use, goes into the Google ID token.';
  await run('1. A nonce for the sign-in', 'nonce', nonceNote, async (step) => {
    nonce = await client.nonce();
    step.value('nonce', nonce);
  });
  await run(
    '2. A Google ID token',
    'google-id-token',
    "POST /local/google/id-token: local mode's test Google (in your app: Google Identity Services).",
    async (step) => {
      const user = { email: input('email'), name: input('name'), sub: input('sub'), nonce };
      googleIdToken = await testGoogleIdToken(bridgeUrl, user);
      step.token('Google ID token', googleIdToken);
    },
  );
  const exchangeNote = 'POST /v1/token/google: the bridge verifies the Google ID token.';
  await run('3. A Firebase custom token', 'custom-token', exchangeNote, async (step) => {
    const exchange = await client.exchange(googleIdToken);
    customToken = exchange.customToken;
    step.value('uid', exchange.uid, 'uid').token('custom token', customToken);
  });
  await run(
    '4. A Firebase ID token',
    'firebase-id-token',
    "signInWithCustomToken: the Firebase JS SDK, connected to this bridge's Auth Emulator routes.",
    async (step) => {
      await client.signInWithCustomToken(customToken);
      lastIdToken = await client.idToken();
      step.token('Firebase ID token', lastIdToken);
    },
  );
  await callMe('5. A protected route', 'me');
}

async function callMe(title: string, name: string): Promise<void> {
  await run(title, name, 'GET /v1/me with Authorization: Bearer <Firebase ID token>.', async (step) => {
    step.value('answer', await client.me());
  });
}

async function refresh(): Promise<void> {
  const previous = lastIdToken;
  await run(
    'Refreshed Firebase ID token',
    'refreshed-id-token',
    'getIdToken(true): a new ID token from the refresh token (asked again within the same second, the same token: ' +
      'same claims, same iat).',
    async (step) => {
      lastIdToken = await client.refresh();
      step.token('Firebase ID token', lastIdToken);
      const differs = previous === undefined ? 'no previous token on this page' : String(previous !== lastIdToken);
      step.value('differs from the previous ID token', differs, 'differs');
    },
  );
  await callMe('A protected route, with the refreshed token', 'me-refreshed');
}

async function signOut(): Promise<void> {
  await client.signOut();
  lastIdToken = undefined;
  steps.replaceChildren();
}

function action(work: () => Promise<void>): () => void {
  return () => {
    busy(true);
    work().then(
      () => busy(false),
      (err: unknown) => {
        setStatus(`Failed: ${err instanceof Error ? err.message : String(err)}`, true);
        busy(false);
      },
    );
  };
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  action(signIn)();
});
refreshButton.addEventListener('click', action(refresh));
signOutButton.addEventListener('click', action(signOut));

client.onUserChanged((user) => {
  if (user) {
    statusLine.replaceChildren('Signed in as ', element('code', user.uid, 'uid'));
    statusLine.classList.remove('error');
  } else {
    setStatus('Signed out');
  }
  updateButtons();
});
