// Certificates for the lab's TLS VIP: a valid self-signed one, and the broken
// kinds that page people (expired, not yet valid, issued for another name),
// made with openssl. `openssl req -x509` cannot backdate, so the broken ones
// are signed by a throwaway CA with `openssl ca -startdate/-enddate`.
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

export type BrokenCert = 'expired' | 'not-yet-valid' | 'wrong-name';

export async function brokenPem(dir: string, kind: BrokenCert, cn: string): Promise<string> {
  const ca = join(dir, `ca-${kind}`);
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
    '/CN=lbcheck lab CA',
    '-days',
    '30',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  ]);
  const subject = kind === 'wrong-name' ? 'other.lab.test' : cn;
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
  const now = Date.now();
  const [start, end] =
    kind === 'expired'
      ? [now - 60 * DAY_MS, now - 30 * DAY_MS]
      : kind === 'not-yet-valid'
        ? [now + 30 * DAY_MS, now + 60 * DAY_MS]
        : [now - DAY_MS, now + 60 * DAY_MS];
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
