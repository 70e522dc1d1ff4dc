// The `passphrase` secrets provider, as far as a stack export needs it: the deployment's
// `secrets_providers.state.salt` is "v1:<base64 salt>:<'pulumi' encrypted>", and each secret's `ciphertext`
// is "v1:<base64 nonce>:<base64 AES-256-GCM ciphertext and tag>" with a key of 1,000,000 rounds of
// PBKDF2-SHA256 (pulumi/pulumi pkg/secrets/passphrase/manager.go, sdk/go/common/resource/config/crypt.go).
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from "node:crypto";

const KEY_ROUNDS = 1_000_000;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** What the salt state carries encrypted, so a wrong passphrase is told apart from a damaged secret. */
const KNOWN_PLAINTEXT = "pulumi";

export interface PassphraseCrypter {
    /** The `secrets_providers.state.salt` a deployment records for this passphrase and salt. */
    readonly saltState: string;
    encrypt(plaintext: string): string;
    decrypt(ciphertext: string): string;
}

/** A crypter for a new salt: what `pulumi stack init --secrets-provider passphrase` sets up. */
export function newPassphraseCrypter(passphrase: string): PassphraseCrypter {
    const salt = randomBytes(8);
    const key = deriveKey(passphrase, salt);
    const saltState = `v1:${salt.toString("base64")}:${encrypt(key, KNOWN_PLAINTEXT)}`;
    return { saltState, encrypt: (plaintext) => encrypt(key, plaintext), decrypt: (ciphertext) => decrypt(key, ciphertext) };
}

/** The crypter of an existing deployment; throws "incorrect passphrase" as the CLI does. */
export function passphraseCrypterFor(passphrase: string, saltState: string): PassphraseCrypter {
    const [version, salt, ...rest] = saltState.split(":");
    if (version !== "v1" || salt === undefined || rest.length === 0) throw new Error("malformed passphrase salt state");
    const key = deriveKey(passphrase, Buffer.from(salt, "base64"));
    let check: string | undefined;
    try {
        check = decrypt(key, rest.join(":"));
    } catch {
        check = undefined;
    }
    if (check !== KNOWN_PLAINTEXT) throw new Error("incorrect passphrase");
    return { saltState, encrypt: (plaintext) => encrypt(key, plaintext), decrypt: (ciphertext) => decrypt(key, ciphertext) };
}

function deriveKey(passphrase: string, salt: Buffer): Buffer {
    return pbkdf2Sync(passphrase, salt, KEY_ROUNDS, KEY_BYTES, "sha256");
}

function encrypt(key: Buffer, plaintext: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, nonce);
    const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

function decrypt(key: Buffer, ciphertext: string): string {
    const [version, nonce, sealed] = ciphertext.split(":");
    if (version !== "v1" || nonce === undefined || sealed === undefined) throw new Error("malformed secret ciphertext");
    const bytes = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString("utf8");
}
