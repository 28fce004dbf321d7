// Test helpers for the TLS-speaking probers: a throwaway CA (root, intermediate) made with the
// openssl CLI in a temp dir, issuing server certificates valid (or expired) when asked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssueOptions {
  /** DNS names (default ["localhost"]) and IP addresses (default ["127.0.0.1"]) in the SAN. */
  dnsNames?: string[];
  ips?: string[];
  /** Validity (default: from an hour ago for 90 days). */
  notBefore?: Date;
  notAfter?: Date;
}

export interface ServerCert {
  key: string;
  /** The leaf then the intermediate, as a server presents them. */
  cert: string;
  notAfter: Date;
}

export interface TestCa {
  /** The root's PEM file, for `ca_file`. */
  caFile: string;
  issue(options?: IssueOptions): ServerCert;
  /** Deletes the temp dir. */
  remove(): void;
}

const day = 86_400_000;

const config = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[ any_name ]
organizationName = optional
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
authorityKeyIdentifier = keyid
`;

/** Makes a root and an intermediate CA; throws when openssl is missing. */
export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-ca-'));
  const run = (args: string[], san = 'DNS:unused'): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, SAN: san } });
  };
  writeFileSync(join(dir, 'openssl.cnf'), config);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-config', 'openssl.cnf', '-x509', '-new', ...newKey, '-keyout', 'root.key', '-out', 'root.crt', '-days', '3650', '-subj', '/O=opsctl test/CN=opsctl test root', '-extensions', 'v3_ca']);
  run(['req', '-config', 'openssl.cnf', '-new', ...newKey, '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/O=opsctl test/CN=opsctl test intermediate']);
  run(['ca', '-config', 'openssl.cnf', '-batch', '-notext', '-cert', 'root.crt', '-keyfile', 'root.key', '-in', 'int.csr', '-out', 'int.crt', '-extensions', 'v3_ca', '-days', '3650']);
  const intermediate = readFileSync(join(dir, 'int.crt'), 'utf8');
  let serial = 0;
  return {
    caFile: join(dir, 'root.crt'),
    issue(options = {}) {
      const name = `leaf${++serial}`;
      const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
      const notAfter = options.notAfter ?? new Date(Date.now() + 90 * day);
      const san = [...(options.dnsNames ?? ['localhost']).map((n) => `DNS:${n}`), ...(options.ips ?? ['127.0.0.1']).map((ip) => `IP:${ip}`)].join(',');
      const cn = options.dnsNames?.[0] ?? 'localhost';
      run(['req', '-config', 'openssl.cnf', '-new', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=opsctl test/CN=${cn}`]);
      run(['ca', '-config', 'openssl.cnf', '-batch', '-notext', '-cert', 'int.crt', '-keyfile', 'int.key', '-in', `${name}.csr`, '-out', `${name}.crt`,
        '-extensions', 'v3_leaf', '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter)], san);
      return {
        key: readFileSync(join(dir, `${name}.key`), 'utf8'),
        cert: readFileSync(join(dir, `${name}.crt`), 'utf8') + intermediate,
        notAfter: new Date(Math.floor(notAfter.getTime() / 1000) * 1000),
      };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** 20260101120000Z */
function asn1Time(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
