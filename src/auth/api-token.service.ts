import { IsNull } from "typeorm";
import { EventType } from "../log/event-types";
import { SYSTEM_INITIATOR, type Initiator } from "../log/initiator";
import type { LogService, LogTarget } from "../log/log.service";
import type { Clock } from "../platform/clock";
import type { Database } from "../platform/database";
import { badInput, conflict, notFound } from "../platform/errors";
import { hashSecret, newId, newSecret } from "../platform/ids";
import { ShortLived } from "../platform/short-lived";
import { ApiToken, type CreatedApiToken } from "./api-token.entity";

/** lastUsed is a hint, not an audit trail: refresh it at most this often to keep reads cheap. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Every admin request presents its token: active tokens are remembered this long. A revocation
 * here takes effect at once; one made through another instance, within this time.
 */
const TOKEN_CACHE_MS = 1_000;

const tokenTarget = (token: ApiToken): LogTarget => ({ id: token.id, type: "ApiToken", displayName: token.name });

export class ApiTokenService {
  private readonly active = new ShortLived<string, ApiToken | null>(TOKEN_CACHE_MS);

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
  ) {}

  async create(name: string, initiator: Initiator, token: string = newSecret("rf_")): Promise<CreatedApiToken> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 128) throw badInput("name", "must be 1 to 128 characters");
    const apiToken = Object.assign(new ApiToken(), {
      id: newId("tok"),
      name: trimmed,
      tokenHash: hashSecret(token),
      created: this.clock.now(),
      lastUsed: null,
      revoked: null,
    });
    await this.db.transaction(async (tx) => {
      await tx.manager.insert(ApiToken, apiToken);
      await this.log.recordChange(tx, initiator, { eventType: EventType.API_TOKEN_CREATE, displayMessage: "Create API token", target: [tokenTarget(apiToken)] });
    });
    return { token, apiToken };
  }

  /** The first start's admin token: only when there has never been one. */
  async bootstrap(token: string | null): Promise<CreatedApiToken | null> {
    if (await this.db.manager.exists(ApiToken)) return null;
    return this.create("bootstrap", SYSTEM_INITIATOR, token ?? undefined);
  }

  listActive(): Promise<ApiToken[]> {
    return this.db.manager.find(ApiToken, { where: { revoked: IsNull() }, order: { created: "ASC" } });
  }

  async revoke(id: string, initiator: Initiator): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const token = await manager.findOneBy(ApiToken, { id, revoked: IsNull() });
      if (!token) throw notFound("API token");
      // On PostgreSQL the active tokens are locked first: two revocations at once would each count
      // two active tokens and leave none. The second waits, then counts without the first's; when
      // the first revoked this very token, it is no longer among them: that one logged it.
      const active =
        this.db.engine === "postgres"
          ? (await manager.find(ApiToken, { where: { revoked: IsNull() }, lock: { mode: "pessimistic_write" } })).map((row) => row.id)
          : (await manager.find(ApiToken, { select: { id: true }, where: { revoked: IsNull() } })).map((row) => row.id);
      if (!active.includes(id)) throw notFound("API token");
      // Revoking the last admin token would lock every administrator out for good.
      if (active.length <= 1) throw conflict("LAST_ADMIN_TOKEN", "This is the last active admin token; create another before revoking it");
      await manager.update(ApiToken, { id }, { revoked: this.clock.now() });
      await this.log.recordChange(tx, initiator, { eventType: EventType.API_TOKEN_REVOKE, displayMessage: "Revoke API token", target: [tokenTarget(token)] });
      return true;
    }).finally(() => this.active.forget());
  }

  /** The token's record when the secret names an active token. */
  async authenticate(secret: string): Promise<ApiToken | null> {
    const tokenHash = hashSecret(secret);
    const token = await this.active.get(tokenHash, () => this.db.manager.findOneBy(ApiToken, { tokenHash, revoked: IsNull() }));
    if (!token) {
      // Unknown secrets are not remembered: a token created a moment later must work at once.
      this.active.forget(tokenHash);
      return null;
    }
    const now = this.clock.now();
    if (!token.lastUsed || now.getTime() - token.lastUsed.getTime() > LAST_USED_RESOLUTION_MS) {
      token.lastUsed = now;
      await this.db.transaction(({ manager }) => manager.update(ApiToken, { id: token.id }, { lastUsed: now }));
    }
    return token;
  }
}
