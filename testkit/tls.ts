import { generateKeyPairSync } from 'node:crypto';
import type { RequestOptions } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';

/** A throwaway TLS identity for `hostnames` (its own trust anchor: self-signed, with the names as DNS SANs). */
export function testTlsIdentity(hostnames: readonly string[]): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = `01${Date.now().toString(16)}`;
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: `firebridge test CA for ${hostnames[0]}` }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: hostnames.map((value) => ({ type: 2, value })) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: forge.pki.certificateToPem(cert) };
}

/**
 * A TLS server on 127.0.0.1 that answers as `hostnames` (e.g. www.googleapis.com) by relaying each GET to
 * `upstream` (plain http on loopback), and an https.Agent that sends every connection there, trusting only the
 * test certificate and checking the hostname against it. For clients that fetch a fixed Google URL but take an
 * agent (firebase-admin's `httpAgent`): they reach the fake, never the network.
 */
export async function tlsRelay(hostnames: readonly string[], upstream: string): Promise<{ agent: https.Agent; requests: string[]; close(): Promise<void> }> {
  const identity = testTlsIdentity(hostnames);
  const requests: string[] = [];
  const server = https.createServer(identity, (req, res) => {
    requests.push(`${req.method} ${req.headers.host} ${req.url}`);
    void fetch(`${upstream}${req.url ?? '/'}`, { method: req.method, redirect: 'manual', signal: AbortSignal.timeout(5000) })
      .then(async (answer) => {
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'cache-control']) {
          const value = answer.headers.get(name);
          if (value !== null) headers[name] = value;
        }
        res.writeHead(answer.status, headers).end(Buffer.from(await answer.arrayBuffer()));
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  class RelayAgent extends https.Agent {
    // The agent uses the returned socket (and ignores the callback when a socket is returned).
    override createConnection(options: RequestOptions & tls.ConnectionOptions): Duplex {
      const servername = options.servername ?? (options.host as string);
      return tls.connect({ ...options, host: '127.0.0.1', port, servername, ca: identity.cert });
    }
  }
  const agent = new RelayAgent({ keepAlive: false });
  return {
    agent,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
