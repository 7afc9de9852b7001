/** A throwaway certificate authority and the server certificates it signs, made with openssl. */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const openssl = (args: string[], cwd: string) =>
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });

/** A CA in `dir` (ca.pem, ca.key). */
export function makeCa(dir: string, name: string): { cert: string; key: string } {
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
    ],
    dir,
  );
  return { cert: join(dir, "ca.pem"), key: join(dir, "ca.key") };
}

/** A server certificate for `address` signed by the CA; returns its cert and key paths. */
export function issueCert(
  ca: { cert: string; key: string },
  dir: string,
  address: string,
): { cert: string; key: string } {
  openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${address}`,
      "-keyout",
      "key.pem",
      "-out",
      "req.csr",
    ],
    dir,
  );
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=IP:${address}\n`);
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "req.csr",
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext.cnf",
      "-out",
      "cert.pem",
    ],
    dir,
  );
  return { cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}
