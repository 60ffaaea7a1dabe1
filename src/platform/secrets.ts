import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError, type Config } from "./config";
import { secureRandomBytes } from "./random";

const MIN_SECRET_LENGTH = 32;

/**
 * Writes `content` to `file` unless it exists, whole or not at all: written and flushed under
 * another name first, then linked into place, which fails if the file is there. Written in place,
 * a full disk left an empty file, and an instance starting beside this one could read it half written.
 */
function createOnce(file: string, content: string): void {
  const draft = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const fd = fs.openSync(draft, "wx", 0o600);
    try {
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code === "EEXIST") return;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw error;
      // A file system without hard links: an exclusive copy never replaces a secret, though an
      // instance starting at the same moment could read it part-written there.
      try {
        fs.copyFileSync(draft, file, fs.constants.COPYFILE_EXCL);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code !== "EEXIST") throw copyError;
      }
    }
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/**
 * The server secret: SERVER_SECRET, or a random one kept in DATA_DIR/secret (mode 0600) and
 * made on first start. Several instances sharing a database must be given the same
 * SERVER_SECRET. Separate keys are derived for each use, so no key serves two purposes.
 */
export class ServerSecrets {
  private readonly passcodeKey: Buffer;
  private readonly bodyKey: Buffer;

  constructor(secret: string) {
    const derive = (purpose: string) => Buffer.from(hkdfSync("sha256", secret, "ringfence", purpose, 32));
    this.passcodeKey = derive("passcode-hmac");
    this.bodyKey = derive("message-body-aes-gcm");
  }

  static load(config: Pick<Config, "serverSecret" | "dataDir">): ServerSecrets {
    if (config.serverSecret) return new ServerSecrets(config.serverSecret);
    const file = path.join(config.dataDir, "secret");
    // Made only when missing: a DATA_DIR holding it may be read-only from then on.
    if (!fs.existsSync(file)) {
      fs.mkdirSync(config.dataDir, { recursive: true });
      createOnce(file, randomBytes(32).toString("base64url"));
    }
    const secret = fs.readFileSync(file, "utf8").trim();
    // Never made by us (a hand edit, or a disk that filled while an older version wrote it): keys
    // derived from it could be derived by anyone.
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError([
        `${file} holds ${secret.length} characters, fewer than ${MIN_SECRET_LENGTH}: set SERVER_SECRET, or remove the file to have a new one made (codes and queued messages made under the old one can then no longer be checked or sent)`,
      ]);
    }
    return new ServerSecrets(secret);
  }

  /** Keyed hash of a passcode, bound to its challenge so a code cannot serve another one. */
  passcodeHash(challengeId: string, code: string): string {
    return createHmac("sha256", this.passcodeKey).update(`${challengeId}:${code}`).digest("hex");
  }

  /** Constant-time: the comparison takes as long whatever prefix of the code is right. */
  passcodeMatches(challengeId: string, code: string, storedHash: string): boolean {
    const actual = Buffer.from(this.passcodeHash(challengeId, code), "hex");
    const expected = Buffer.from(storedHash, "hex");
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** AES-256-GCM, authenticated with the message id so a ciphertext cannot be moved to another row. */
  sealBody(messageId: string, body: string): string {
    const iv = secureRandomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.bodyKey, iv);
    cipher.setAAD(Buffer.from(messageId));
    const sealed = Buffer.concat([cipher.update(body, "utf8"), cipher.final()]);
    return [iv, cipher.getAuthTag(), sealed].map((part) => part.toString("base64url")).join(".");
  }

  openBody(messageId: string, sealed: string): string {
    const [iv, tag, data] = sealed.split(".").map((part) => Buffer.from(part, "base64url"));
    const decipher = createDecipheriv("aes-256-gcm", this.bodyKey, iv!);
    decipher.setAAD(Buffer.from(messageId));
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(data!), decipher.final()]).toString("utf8");
  }
}
