import { Column, Entity, In, Index, PrimaryColumn, type EntityManager } from "typeorm";
import { TimestampColumn } from "../platform/columns";
import { uuidv7 } from "../platform/uuid";
import { verifyPassword } from "./password";

/**
 * A password a user had before their current one, kept (as the same scrypt hash) only while
 * the password policy's history may still refuse it: at most historyCount - 1 of them, as the
 * current password is the first of the history.
 */
@Entity("password_history")
@Index("password_history_user", ["userId", "replaced"])
export class PasswordHistoryRecord {
  /** A UUIDv7: passwords replaced in the same millisecond still sort in the order they were. */
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ name: "user_id", type: "varchar", length: 40 })
  userId: string;

  @Column({ name: "password_hash", type: "varchar", length: 256 })
  passwordHash: string;

  /** When it stopped being the user's password. */
  @TimestampColumn()
  replaced: Date;
}

const NEWEST_FIRST = { replaced: "DESC", id: "DESC" } as const;

/**
 * Whether `password` is the current password (`currentHash`) or one of the `historyCount - 1`
 * before it. Every hash is checked, in parallel on libuv's pool, whichever matches first: the
 * answer takes as long whether the password was reused or not.
 */
export async function isRecentPassword(
  manager: EntityManager,
  userId: string,
  currentHash: string | null,
  password: string,
  historyCount: number,
): Promise<boolean> {
  if (historyCount < 1) return false;
  const previous =
    historyCount > 1
      ? await manager.find(PasswordHistoryRecord, { where: { userId }, order: NEWEST_FIRST, take: historyCount - 1 })
      : [];
  const hashes = [...(currentHash ? [currentHash] : []), ...previous.map((record) => record.passwordHash)];
  const matches = await Promise.all(hashes.map((hash) => verifyPassword(password, hash)));
  return matches.includes(true);
}

/**
 * Records the password just replaced, in the transaction that replaces it, and forgets what
 * the policy no longer asks to remember: a history shortened by the admin shrinks at the
 * user's next change, and a policy with no history keeps none.
 */
export async function rememberReplacedPassword(
  manager: EntityManager,
  userId: string,
  replacedHash: string | null,
  replaced: Date,
  historyCount: number,
): Promise<void> {
  const keep = Math.max(historyCount - 1, 0);
  if (replacedHash && keep > 0) {
    await manager.insert(PasswordHistoryRecord, { id: uuidv7(replaced), userId, passwordHash: replacedHash, replaced });
  }
  const forgotten = await manager.find(PasswordHistoryRecord, { select: { id: true }, where: { userId }, order: NEWEST_FIRST, skip: keep });
  if (forgotten.length) await manager.delete(PasswordHistoryRecord, { id: In(forgotten.map((record) => record.id)) });
}
