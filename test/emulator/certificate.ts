import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** A self-signed TLS certificate for 127.0.0.1 in a private temp directory. */
export interface LoopbackCertificate {
    /** The certificate (it is its own CA), fit for `NODE_EXTRA_CA_CERTS` or `https.Agent({ ca })`. */
    certPath: string;
    certPem: string;
    keyPem: string;
    /** Deletes the directory with the key; safe to call twice. */
    remove(): Promise<void>;
}

/**
 * Makes a fresh certificate on every start, so no private key ever sits in the repository.
 * Clients connect to `127.0.0.1` (an IP literal), which Node checks against the IP entries of
 * subjectAltName, never against the CN; `localhost` is there for tools that prefer the name.
 */
export async function createLoopbackCertificate(): Promise<LoopbackCertificate> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "graph-emulator-"));
    const certPath = path.join(dir, "cert.pem");
    const keyPath = path.join(dir, "key.pem");
    try {
        // The distribution's openssl.cnf adds basicConstraints CA:TRUE to a self-signed
        // certificate, which lets the same certificate act as its own trust anchor.
        await execFileAsync("openssl", [
            "req", "-x509",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", keyPath, "-out", certPath,
        ]);
        const [certPem, keyPem] = await Promise.all([fs.readFile(certPath, "utf8"), fs.readFile(keyPath, "utf8")]);
        return { certPath, certPem, keyPem, remove: () => fs.rm(dir, { recursive: true, force: true }) };
    } catch (error) {
        await fs.rm(dir, { recursive: true, force: true });
        throw new Error(`could not create the emulator's certificate with the openssl CLI: ${(error as Error).message}`);
    }
}
