// Certificates for the lab's TLS VIP: a valid one signed by the lab's own CA,
// and the broken kinds that page people (expired, not yet valid, issued for
// another name, self-signed), made with openssl. `openssl req -x509` cannot
// backdate, so the dated ones are signed with `openssl ca -startdate/-enddate`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './run-command.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAY_MS = 86_400_000;

/** A PEM bundle (certificate then key) as HAProxy's `crt` takes it. */
export async function selfSignedPem(dir: string, cn: string, days: number): Promise<string> {
  const key = join(dir, `${cn}.key`);
  const crt = join(dir, `${cn}.crt`);
  await runOk([
    'openssl',
    'req',
    '-x509',
    ...EC,
    '-subj',
    `/CN=${cn}`,
    '-days',
    String(days),
    '-keyout',
    key,
    '-out',
    crt,
  ]);
  return Buffer.concat([readFileSync(crt), readFileSync(key)]).toString();
}

function asn1Time(d: Date): string {
  return `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

export type BrokenCert = 'expired' | 'not-yet-valid' | 'wrong-name' | 'self-signed';

/** A CA made with openssl: its directory (openssl ca's database) and certificate. */
async function makeCa(dir: string, name: string, cn: string, days: number): Promise<string> {
  const ca = join(dir, name);
  mkdirSync(ca, { recursive: true });
  writeFileSync(join(ca, 'index.txt'), '');
  writeFileSync(join(ca, 'serial'), '01\n');
  writeFileSync(
    join(ca, 'ca.cnf'),
    `[ca]\ndefault_ca = lab\n[lab]\ndatabase = ${ca}/index.txt\nnew_certs_dir = ${ca}\nserial = ${ca}/serial\ndefault_md = sha256\npolicy = any\n[any]\ncommonName = supplied\n`,
  );
  const f = (n: string): string => join(ca, n);
  await runOk([
    'openssl',
    'req',
    '-x509',
    ...EC,
    '-subj',
    `/CN=${cn}`,
    '-days',
    String(days),
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  ]);
  return ca;
}

/** A leaf certificate for `subject` signed by the CA in `ca`, valid from start to end: PEM certificate then key. */
async function signedPem(ca: string, subject: string, start: number, end: number): Promise<string> {
  const f = (n: string): string => join(ca, n);
  await runOk([
    'openssl',
    'req',
    '-new',
    ...EC,
    '-subj',
    `/CN=${subject}`,
    '-keyout',
    f('leaf.key'),
    '-out',
    f('leaf.csr'),
  ]);
  await runOk([
    'openssl',
    'ca',
    '-batch',
    '-notext',
    '-config',
    f('ca.cnf'),
    '-cert',
    f('ca.crt'),
    '-keyfile',
    f('ca.key'),
    '-in',
    f('leaf.csr'),
    '-out',
    f('leaf.crt'),
    '-startdate',
    asn1Time(new Date(start)),
    '-enddate',
    asn1Time(new Date(end)),
  ]);
  return Buffer.concat([readFileSync(f('leaf.crt')), readFileSync(f('leaf.key'))]).toString();
}

/**
 * The TLS VIP's healthy certificate, signed by the lab's own CA (as an estate's internal CA signs its VIPs'):
 * checks given the CA's certificate (caFile) trust it; checks without it find its issuer untrusted.
 */
export async function labCaPem(dir: string, cn: string, days: number): Promise<{ pem: string; caFile: string }> {
  const ca = await makeCa(dir, 'lab-ca', 'lbcheck lab root CA', days + 1);
  const now = Date.now();
  return { pem: await signedPem(ca, cn, now - DAY_MS, now + days * DAY_MS), caFile: join(ca, 'ca.crt') };
}

/** A certificate that clients refuse; each broken one signed by a throwaway CA (not the lab's). */
export async function brokenPem(dir: string, kind: BrokenCert, cn: string): Promise<string> {
  if (kind === 'self-signed') return selfSignedPem(dir, cn, 90);
  const ca = await makeCa(dir, `ca-${kind}`, 'lbcheck lab CA', 30);
  const subject = kind === 'wrong-name' ? 'other.lab.test' : cn;
  const now = Date.now();
  const [start, end] =
    kind === 'expired'
      ? [now - 60 * DAY_MS, now - 30 * DAY_MS]
      : kind === 'not-yet-valid'
        ? [now + 30 * DAY_MS, now + 60 * DAY_MS]
        : [now - DAY_MS, now + 60 * DAY_MS];
  return signedPem(ca, subject, start, end);
}
