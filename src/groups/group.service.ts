import type { EntityManager } from "typeorm";
import { GroupMember, Group } from "./group.entity";
import { EventType } from "../log/event-types";
import type { Initiator } from "../log/initiator";
import type { LogService } from "../log/log.service";
import { groupTarget, userTarget } from "../log/targets";
import { User } from "../users/user.entity";
import type { Clock } from "../platform/clock";
import { isUniqueViolation, type Database, type Transaction } from "../platform/database";
import { AppError, badInput, conflict, ErrorCode, notFound } from "../platform/errors";
import { caseFoldedVisible, hasControlOrDirectionCharacters } from "../platform/case-folding";
import { codePoints } from "../platform/text-length";
import { newId } from "../platform/ids";

/** The policies that name a group, which keep it from being deleted. */
export interface GroupReferences {
  policiesNamingGroup(manager: EntityManager, groupId: string): Promise<string[]>;
}

export class GroupService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly log: LogService,
    private readonly references: GroupReferences,
  ) {}

  async createGroup(name: string, description: string | null | undefined, initiator: Initiator): Promise<Group> {
    const trimmed = groupName(name);
    checkDescription(description);
    const group = Object.assign(new Group(), {
      id: newId("grp"),
      name: trimmed,
      nameNormalized: caseFoldedVisible(trimmed),
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

  /** Renames a group or changes its description (null clears it); unchanged fields log nothing. */
  async updateGroup(id: string, changes: { name?: string | null; description?: string | null }, initiator: Initiator): Promise<Group> {
    const name = changes.name == null ? undefined : groupName(changes.name);
    checkDescription(changes.description);
    try {
      return await this.db.transaction(async (tx) => {
        const group = await tx.manager.findOneBy(Group, { id });
        if (!group) throw notFound("Group");
        const next: Partial<Group> = {};
        if (name !== undefined && name !== group.name) Object.assign(next, { name, nameNormalized: caseFoldedVisible(name) });
        if (changes.description !== undefined && changes.description !== group.description) next.description = changes.description;
        const changedFields = (["name", "description"] as const).filter((field) => field in next);
        if (!changedFields.length) return group;
        // Deleted meanwhile (PostgreSQL): nothing was changed, and nothing is logged.
        if (!(await tx.manager.update(Group, { id }, next)).affected) throw notFound("Group");
        const previousName = group.name;
        Object.assign(group, next);
        await this.log.recordChange(tx, initiator, {
          eventType: EventType.GROUP_UPDATE,
          displayMessage: "Update group profile",
          target: [groupTarget(group)],
          debugContext: { changedFields: changedFields.join(","), ...(next.name ? { previousName } : {}) },
        });
        return group;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("GROUP_NAME_TAKEN", `A group named ${name} exists already`);
      throw error;
    }
  }

  /**
   * Deletes a group and its memberships. A group that a policy or rule names (to include or to
   * exclude) is refused: deleting it would silently widen or narrow who the policy applies to.
   */
  async deleteGroup(id: string, initiator: Initiator): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { manager } = tx;
      const group = await manager.findOneBy(Group, { id });
      if (!group) throw notFound("Group");
      // The row goes first: from here a membership or policy that names the group waits for this
      // transaction (see requireGroups), and what committed before is seen by the reads below.
      if (!(await manager.delete(Group, { id })).affected) throw notFound("Group");
      const policies = await this.references.policiesNamingGroup(manager, id);
      if (policies.length) {
        throw conflict("GROUP_IN_USE", `The group ${group.name} is named by the policies ${policies.join(", ")}; take it out of them first`);
      }
      const members = await manager.countBy(GroupMember, { groupId: id });
      await manager.delete(GroupMember, { groupId: id });
      await this.log.recordChange(tx, initiator, {
        eventType: EventType.GROUP_DELETE,
        displayMessage: "Delete group",
        target: [groupTarget(group)],
        debugContext: { members },
      });
      return true;
    });
  }

  list(): Promise<Group[]> {
    return this.db.manager.find(Group, { order: { nameNormalized: "ASC" } });
  }

  findById(id: string): Promise<Group | null> {
    return this.db.manager.findOneBy(Group, { id });
  }

  /**
   * Adding a member twice is not an error: the membership simply exists, and only its start is
   * logged. The insert itself tells whether it was new, so two adds at once (a double click)
   * both succeed, where a read first let both insert and the second break the key.
   */
  async addMember(userId: string, groupId: string, initiator: Initiator): Promise<Group> {
    return this.db.transaction(async (tx) => {
      const { group, user } = await this.requireGroupAndUser(tx, groupId, userId);
      const inserted = await this.db.statements.write(
        tx.manager,
        `INSERT INTO "group_members" ("group_id", "user_id", "added") VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
        [groupId, userId, this.clock.now().getTime()],
      );
      if (inserted) await recordMembership(this.log, tx, initiator, "add", user, group);
      return group;
    });
  }

  /** Removing a non-member is not an error either; only a membership that ended is logged. */
  async removeMember(userId: string, groupId: string, initiator: Initiator): Promise<Group> {
    return this.db.transaction(async (tx) => {
      const { group, user } = await this.requireGroupAndUser(tx, groupId, userId);
      const removed = await tx.manager.delete(GroupMember, { groupId, userId });
      if (removed.affected) await recordMembership(this.log, tx, initiator, "remove", user, group);
      return group;
    });
  }

  /** Both held until commit, so that neither can be deleted under the membership. */
  private async requireGroupAndUser(tx: Transaction, groupId: string, userId: string): Promise<{ group: Group; user: User }> {
    const [group] = await requireGroups(this.db, tx, [groupId]);
    const [user] = await this.db.findForKeyShare(tx, User, [userId]);
    if (!user) throw notFound("User");
    return { group: group!, user };
  }
}

/**
 * The groups a membership or a policy is about to name, NOT_FOUND if any is missing; held until
 * the caller's transaction commits, so that a concurrent deleteGroup cannot leave the name dangling.
 */
export async function requireGroups(db: Database, tx: Transaction, groupIds: readonly string[]): Promise<Group[]> {
  const wanted = [...new Set(groupIds)];
  const found = await db.findForKeyShare(tx, Group, wanted);
  const missing = wanted.filter((id) => !found.some((group) => group.id === id));
  if (missing.length) throw new AppError(ErrorCode.NOT_FOUND, `No group with id ${missing.join(", ")}`);
  return wanted.map((id) => found.find((group) => group.id === id)!);
}

function groupName(name: string): string {
  const trimmed = name.trim();
  // Stored as given and folded, for uniqueness, and either can be the longer: lower case can
  // lengthen ("İ" is "i̇"), and NFKC shortens a decomposed accent.
  const key = caseFoldedVisible(trimmed);
  if (!key || Math.max(codePoints(trimmed), codePoints(key)) > 128) throw badInput("name", "must be 1 to 128 characters");
  if (hasControlOrDirectionCharacters(trimmed)) throw badInput("name", "must not contain control or text-direction characters");
  return trimmed;
}

function checkDescription(description: string | null | undefined): void {
  if (description && description.length > 1024) throw badInput("description", "must be at most 1024 characters");
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
