/**
 * deploy/kubernetes/*.yaml parse (js-yaml, safe schema), hold the objects the README promises, and name only
 * settings the server knows (.env.example lists every setting; src/config/ reads each of them).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

// js-yaml is installed (a dependency of jest's coverage tooling), without types: the one function used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require('js-yaml') as { safeLoadAll(text: string): unknown[] };

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function documents(): Array<{ file: string; doc: Obj }> {
  const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml'));
  return files.flatMap((file) =>
    yaml
      .safeLoadAll(readFileSync(path.join(DIR, file), 'utf8'))
      .filter((doc) => doc !== null && doc !== undefined)
      .map((doc) => ({ file, doc: doc as Obj })),
  );
}

/** Every setting: `NAME=value` or `# NAME=value` lines of .env.example. */
function knownSettings(): Set<string> {
  const names = readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .map((line) => /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return new Set(names);
}

/** The text of src/config/: a setting the server reads appears there as a string literal. */
function configSource(): string {
  const dir = path.join(ROOT, 'src/config');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => readFileSync(path.join(dir, name), 'utf8'))
    .join('\n');
}

describe('deploy/kubernetes manifests', () => {
  const docs = documents();
  const byKind = (kind: string) => docs.filter(({ doc }) => doc.kind === kind).map(({ doc }) => doc);
  const deployment = byKind('Deployment')[0] as Obj;
  const pod = deployment?.spec?.template?.spec as Obj;
  const container = pod?.containers?.[0] as Obj;
  const env = (container?.env ?? []) as Obj[];

  it('parse, and hold a Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget, each named', () => {
    expect(docs.length).toBeGreaterThanOrEqual(4);
    for (const { file, doc } of docs) {
      expect({ file, apiVersion: typeof doc.apiVersion, kind: typeof doc.kind, name: typeof doc.metadata?.name }).toEqual({
        file,
        apiVersion: 'string',
        kind: 'string',
        name: 'string',
      });
    }
    expect(docs.map(({ doc }) => doc.kind).sort()).toEqual(['Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service']);
  });

  it('every environment variable is a setting the server knows (.env.example and src/config/)', () => {
    const known = knownSettings();
    const source = configSource();
    expect(known.size).toBeGreaterThan(30);
    const names = env.map((entry) => entry.name as string);
    expect(names.length).toBeGreaterThan(5);
    expect(names.filter((name) => !known.has(name))).toEqual([]);
    expect(names.filter((name) => !source.includes(`'${name}'`) && !source.includes(`.${name}`))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
    // Secrets come from Secrets, never inline.
    for (const secret of ['ADMIN_API_TOKEN', 'REDIS_URL']) {
      const entry = env.find((e) => e.name === secret);
      if (entry) expect({ secret, value: entry.value, ref: typeof entry.valueFrom?.secretKeyRef?.name }).toEqual({ secret, value: undefined, ref: 'string' });
    }
    // The values parse as the server would: the configuration loads.
    const { loadConfig } = require('../../src/config') as typeof import('../../src/config');
    const values = Object.fromEntries(env.map((e) => [e.name as string, (e.value as string | undefined) ?? placeholder(e.name as string)]));
    expect(() => loadConfig({ ...values, KEYS_DIR: path.join(ROOT, 'deploy') })).not.toThrow();
  });

  it('probes: liveness /healthz, readiness /readyz, on the container port', () => {
    const port = container.ports.find((p: Obj) => p.name === container.livenessProbe.httpGet.port);
    expect(port.containerPort).toBe(Number(env.find((e) => e.name === 'PORT')?.value));
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.readinessProbe.httpGet.port).toBe(container.livenessProbe.httpGet.port);
  });

  it('the keys come from a Secret mounted read-only at KEYS_DIR (no subPath: the kubelet updates it in place)', () => {
    const keysDir = env.find((e) => e.name === 'KEYS_DIR')?.value;
    const mount = container.volumeMounts.find((m: Obj) => m.mountPath === keysDir);
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    const volume = pod.volumes.find((v: Obj) => v.name === mount.name);
    expect(typeof volume.secret.secretName).toBe('string');
    expect(volume.secret.defaultMode & 0o007).toBe(0); // nothing for "others"
  });

  it('non-root, read-only root filesystem, no privilege escalation, no capabilities; resources set', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it('Service, HPA and PDB select the Deployment\'s pods', () => {
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const service = byKind('Service')[0] as Obj;
    expect(labels).toMatchObject(service.spec.selector);
    expect(container.ports.map((p: Obj) => p.name)).toContain(service.spec.ports[0].targetPort);
    const pdb = byKind('PodDisruptionBudget')[0] as Obj;
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const hpa = byKind('HorizontalPodAutoscaler')[0] as Obj;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: deployment.apiVersion, kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThan(pdb.spec.minAvailable);
  });
});

/** Stand-ins for values that come from Secrets. */
function placeholder(name: string): string {
  if (name === 'REDIS_URL') return 'redis://redis-master:6379/0';
  if (name === 'ADMIN_API_TOKEN') return 'Q2hhbmdlIG1lOiBhIHJhbmRvbSAzMi1ieXRlIHRva2Vu';
  return '';
}
