/**
 * A loopback stand-in for https://www.googleapis.com, so firebase-admin (the peer in the
 * benchmarks) fetches the fake Google's keys through its public `httpAgent` option and nothing
 * reaches the internet: a throwaway test CA (node-forge), a certificate for www.googleapis.com
 * signed by it, a TLS server on 127.0.0.1 that relays each GET to the fake Google over plain
 * HTTP, and an https.Agent whose every connection goes to that server and trusts only the CA.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:https';
import { Agent, type AgentOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type ConnectionOptions, connect } from 'node:tls';
import forge from 'node-forge';

export const GOOGLEAPIS_HOST = 'www.googleapis.com';

export interface GoogleTls {
  port: number;
  caPem: string;
  close(): Promise<void>;
}

function certificate(
  subject: string,
  publicKey: forge.pki.PublicKey,
  issuer: { name: string; key: forge.pki.rsa.PrivateKey },
  ca: boolean,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subject }]);
  cert.setIssuer([{ name: 'commonName', value: issuer.name }]);
  cert.setExtensions(
    ca
      ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'subjectAltName', altNames: [{ type: 2, value: subject }] },
          { name: 'extKeyUsage', serverAuth: true },
        ],
  );
  cert.sign(issuer.key, forge.md.sha256.create());
  return cert;
}

/** Starts the TLS relay in front of `upstream` (the fake Google's http://127.0.0.1:port). */
/** An RSA key pair made by node:crypto (fast), in node-forge's form. */
function forgeKeyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey,
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string) as forge.pki.rsa.PublicKey,
  };
}

export async function startGoogleTls(upstream: string): Promise<GoogleTls> {
  const caKeys = forgeKeyPair();
  const caCert = certificate('firebridge bench test CA', caKeys.publicKey, { name: 'firebridge bench test CA', key: caKeys.privateKey }, true);
  const leafKeys = forgeKeyPair();
  const leafCert = certificate(GOOGLEAPIS_HOST, leafKeys.publicKey, { name: 'firebridge bench test CA', key: caKeys.privateKey }, false);
  const sockets = new Set<Socket>();
  const server = createServer(
    { key: forge.pki.privateKeyToPem(leafKeys.privateKey), cert: forge.pki.certificateToPem(leafCert) },
    (req, res) => {
      fetch(`${upstream}${req.url ?? '/'}`)
        .then(async (answer) => {
          const headers: Record<string, string> = { 'content-type': answer.headers.get('content-type') ?? 'application/json' };
          const cacheControl = answer.headers.get('cache-control');
          if (cacheControl) headers['cache-control'] = cacheControl;
          res.writeHead(answer.status, headers).end(await answer.text());
        })
        .catch(() => res.writeHead(502).end());
    },
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPem: forge.pki.certificateToPem(caCert),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An https.Agent for firebase-admin: every connection goes to the loopback relay, verified against the test CA. */
export class LoopbackGoogleAgent extends Agent {
  constructor(
    private readonly port: number,
    private readonly caPem: string,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(options: ConnectionOptions): Socket {
    const named = options.servername || options.host;
    if (named !== GOOGLEAPIS_HOST) throw new Error(`bench agent refuses to connect to ${String(named)}`);
    // Returned synchronously: the agent then uses it as the request's socket.
    const socket = connect({ host: '127.0.0.1', port: this.port, servername: GOOGLEAPIS_HOST, ca: this.caPem });
    return socket;
  }
}
