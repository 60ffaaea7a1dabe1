import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config";
import { secureRandomBytes } from "./random";

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
    fs.mkdirSync(config.dataDir, { recursive: true });
    try {
      fs.writeFileSync(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    return new ServerSecrets(fs.readFileSync(file, "utf8").trim());
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
