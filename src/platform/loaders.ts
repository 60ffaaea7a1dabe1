import DataLoader from "dataloader";
import { In, IsNull } from "typeorm";
import { Group } from "../groups/group.entity";
import { PhoneFactor } from "../phone/phone-factor.entity";
import { SessionRecord } from "../sessions/session.entity";
import { Message } from "../telephony/message.entity";
import { User } from "../users/user.entity";
import type { Database } from "./database";
import { cursorScope, encodeCursor, type KeysetCursor } from "./pagination";

export interface GroupUsersKey {
  groupId: string;
  first: number;
  /** As the client sent it: keys with the same page shape share one statement. */
  after: string | null;
  /** `after` decoded, for this group's scope (groupUsersCursorScope). */
  cursor: KeysetCursor | null;
}

/**
 * A Group.users cursor holds for its own group only. Every group of a `groups` list gets the same
 * `after`, and another group's position would page this one from the wrong place.
 */
export const groupUsersCursorScope = (groupId: string) => cursorScope("Group.users", groupId);

export interface GroupUsersPage {
  users: User[];
  hasNextPage: boolean;
  total: number;
  cursorOf(user: User): string;
}

/**
 * Request-scoped batch loaders: a list of N users with their groups costs a constant number
 * of statements, and nothing is cached beyond the request that asked.
 */
export function createLoaders(db: Database) {
  const groupsByUser = new DataLoader<string, Group[]>(async (userIds) => {
    const rows = await db.manager
      .createQueryBuilder(Group, "g")
      .innerJoin("group_members", "gm", "gm.group_id = g.id")
      .addSelect("gm.user_id", "member_user_id")
      .where("gm.user_id IN (:...userIds)", { userIds })
      .orderBy("g.name_normalized", "ASC")
      .getRawAndEntities();
    const byUser = new Map<string, Group[]>();
    rows.raw.forEach((raw: { member_user_id: string; g_id: string }) => {
      const group = rows.entities.find((entity) => entity.id === raw.g_id);
      if (group) byUser.set(raw.member_user_id, [...(byUser.get(raw.member_user_id) ?? []), group]);
    });
    return userIds.map((id) => byUser.get(id) ?? []);
  });

  const usersByGroup = new DataLoader<GroupUsersKey, GroupUsersPage, string>(
    async (keys) => {
      const groupIds = [...new Set(keys.map((key) => key.groupId))];
      const totals = await db.manager
        .createQueryBuilder()
        .select("gm.group_id", "group_id")
        .addSelect("COUNT(*)", "total")
        .from("group_members", "gm")
        .where("gm.group_id IN (:...groupIds)", { groupIds })
        .groupBy("gm.group_id")
        .getRawMany<{ group_id: string; total: string | number }>();
      // One statement per distinct page shape (usually one), each windowed per group.
      const shapes = new Map<string, GroupUsersKey[]>();
      for (const key of keys) {
        const shape = `${key.first}:${key.after ?? ""}`;
        shapes.set(shape, [...(shapes.get(shape) ?? []), key]);
      }
      const pages = new Map<string, GroupUsersPage>();
      for (const shapeKeys of shapes.values()) {
        const { first, after, cursor } = shapeKeys[0]!;
        const ids = shapeKeys.map((key) => key.groupId);
        const query = db.manager
          .createQueryBuilder(User, "u")
          .innerJoin("group_members", "gm", "gm.user_id = u.id")
          .addSelect("gm.group_id", "member_group_id")
          .addSelect("ROW_NUMBER() OVER (PARTITION BY gm.group_id ORDER BY u.created, u.id)", "rank")
          .where("gm.group_id IN (:...ids)", { ids });
        if (cursor) {
          query.andWhere("(u.created > :at OR (u.created = :at AND u.id > :afterId))", { at: cursor.at, afterId: cursor.id });
        }
        const ranked = db.manager
          .createQueryBuilder()
          .select("*")
          .from(`(${query.getQuery()})`, "ranked")
          .where("ranked.rank <= :limit", { limit: first + 1 })
          .setParameters(query.getParameters());
        const raws = await ranked.getRawMany<Record<string, unknown>>();
        for (const groupId of ids) {
          const users = raws
            .filter((raw) => raw.member_group_id === groupId)
            .sort((a, b) => Number(a.rank) - Number(b.rank))
            .map((raw) => db.manager.create(User, fromRaw(raw)));
          pages.set(`${groupId}:${first}:${after ?? ""}`, {
            users: users.slice(0, first),
            hasNextPage: users.length > first,
            total: Number(totals.find((t) => t.group_id === groupId)?.total ?? 0),
            cursorOf: (user) => encodeCursor({ at: user.created.getTime(), id: user.id }, groupUsersCursorScope(groupId)),
          });
        }
      }
      return keys.map((key) => pages.get(`${key.groupId}:${key.first}:${key.after ?? ""}`)!);
    },
    { cacheKeyFn: (key) => `${key.groupId}:${key.first}:${key.after ?? ""}` },
  );

  const userById = new DataLoader<string, User | null>(async (ids) => {
    const users = await db.manager.findBy(User, { id: In([...ids]) });
    return ids.map((id) => users.find((user) => user.id === id) ?? null);
  });

  const factorsByUser = new DataLoader<string, PhoneFactor[]>(async (userIds) => {
    const factors = await db.manager.find(PhoneFactor, { where: { userId: In([...userIds]) }, order: { created: "ASC", id: "ASC" } });
    return userIds.map((id) => factors.filter((factor) => factor.userId === id));
  });

  const messagesByChallenge = new DataLoader<string, Message[]>(async (challengeIds) => {
    const messages = await db.manager.find(Message, { where: { challengeId: In([...challengeIds]) }, order: { created: "ASC", id: "ASC" } });
    return challengeIds.map((id) => messages.filter((message) => message.challengeId === id));
  });

  const unrevokedSessionsByUser = new DataLoader<string, SessionRecord[]>(async (userIds) => {
    const sessions = await db.manager.find(SessionRecord, { where: { userId: In([...userIds]), revoked: IsNull() }, order: { created: "ASC", id: "ASC" } });
    return userIds.map((id) => sessions.filter((session) => session.userId === id));
  });

  return { groupsByUser, usersByGroup, userById, factorsByUser, messagesByChallenge, unrevokedSessionsByUser };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Drops what the request has read so far: a mutation wrote since. */
export function forgetLoaded(loaders: Loaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

function fromRaw(raw: Record<string, unknown>): Partial<User> {
  const at = (value: unknown) => (value == null ? null : new Date(Number(value)));
  return {
    id: raw.u_id as string,
    login: raw.u_login as string,
    loginNormalized: raw.u_login_normalized as string,
    email: (raw.u_email as string | null) ?? null,
    firstName: (raw.u_first_name as string | null) ?? null,
    lastName: (raw.u_last_name as string | null) ?? null,
    mobilePhone: (raw.u_mobile_phone as string | null) ?? null,
    locale: raw.u_locale as string,
    status: raw.u_status as User["status"],
    passwordHash: (raw.u_password_hash as string | null) ?? null,
    created: at(raw.u_created)!,
    lastLogin: at(raw.u_last_login),
    statusChanged: at(raw.u_status_changed)!,
    failedLogins: Number(raw.u_failed_logins ?? 0),
    lockedAt: at(raw.u_locked_at),
    failedPasscodes: Number(raw.u_failed_passcodes ?? 0),
    failedRecoveryPasscodes: Number(raw.u_failed_recovery_passcodes ?? 0),
    passwordChanged: at(raw.u_password_changed),
    // SQLite answers 0 or 1, PostgreSQL a boolean.
    passwordExpired: raw.u_password_expired === true || raw.u_password_expired === 1,
  };
}
