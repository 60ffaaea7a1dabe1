import type { EntityManager } from "typeorm";
import { GroupMember, Group } from "./group.entity";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import { groupTarget, userTarget } from "../log/targets";
import { User } from "../users/user.entity";
import type { Clock } from "../platform/clock";
import { isUniqueViolation, type Database, type Transaction } from "../platform/database";
import { badInput, conflict, notFound } from "../platform/errors";
import { newId } from "../platform/ids";

export class GroupService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
  ) {}

  async createGroup(name: string, description: string | null | undefined, initiator: Initiator): Promise<Group> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 128) throw badInput("name", "must be 1 to 128 characters");
    if (description && description.length > 1024) throw badInput("description", "must be at most 1024 characters");
    const group = Object.assign(new Group(), {
      id: newId("grp"),
      name: trimmed,
      nameNormalized: trimmed.toLowerCase(),
      description: description ?? null,
      created: this.clock.now(),
    });
    try {
      await this.db.transaction(async (tx) => {
        await tx.manager.insert(Group, group);
        await this.log.recordChange(tx, initiator, { eventType: EventType.GROUP_CREATE, displayMessage: "Create group", target: [groupTarget(group)] });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("GROUP_NAME_TAKEN", `A group named ${trimmed} exists already`);
      throw error;
    }
    return group;
  }

  list(): Promise<Group[]> {
    return this.db.manager.find(Group, { order: { nameNormalized: "ASC" } });
  }

  /** Adding a member twice is not an error: the membership simply exists, and only its start is logged. */
  async addMember(userId: string, groupId: string, initiator: Initiator): Promise<Group> {
    return this.db.transaction(async (tx) => {
      const { group, user } = await this.requireGroupAndUser(tx.manager, groupId, userId);
      if (!(await tx.manager.existsBy(GroupMember, { groupId, userId }))) {
        await tx.manager.insert(GroupMember, { groupId, userId, added: this.clock.now() });
        await recordMembership(this.log, tx, initiator, "add", user, group);
      }
      return group;
    });
  }

  /** Removing a non-member is not an error either; only a membership that ended is logged. */
  async removeMember(userId: string, groupId: string, initiator: Initiator): Promise<Group> {
    return this.db.transaction(async (tx) => {
      const { group, user } = await this.requireGroupAndUser(tx.manager, groupId, userId);
      const removed = await tx.manager.delete(GroupMember, { groupId, userId });
      if (removed.affected) await recordMembership(this.log, tx, initiator, "remove", user, group);
      return group;
    });
  }

  private async requireGroupAndUser(manager: EntityManager, groupId: string, userId: string): Promise<{ group: Group; user: User }> {
    const group = await manager.findOneBy(Group, { id: groupId });
    if (!group) throw notFound("Group");
    const user = await manager.findOneBy(User, { id: userId });
    if (!user) throw notFound("User");
    return { group, user };
  }
}

const MEMBERSHIP_EVENTS = {
  add: { eventType: EventType.GROUP_MEMBERSHIP_ADD, displayMessage: "Add user to group membership" },
  remove: { eventType: EventType.GROUP_MEMBERSHIP_REMOVE, displayMessage: "Remove user from group membership" },
} as const;

/** A membership that began or ended, as the System Log has it: from a group's own mutations and from a user's creation alike. */
export function recordMembership(
  log: LogService,
  tx: Transaction,
  initiator: Initiator,
  change: keyof typeof MEMBERSHIP_EVENTS,
  user: Pick<User, "id" | "login" | "firstName" | "lastName">,
  group: Pick<Group, "id" | "name">,
): Promise<unknown> {
  return log.recordChange(tx, initiator, { ...MEMBERSHIP_EVENTS[change], target: [userTarget(user), groupTarget(group)] });
}
