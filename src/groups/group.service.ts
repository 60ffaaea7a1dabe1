import { GroupMember, Group } from "./group.entity";
import { User } from "../users/user.entity";
import type { Clock } from "../platform/clock";
import { isUniqueViolation, type Database } from "../platform/database";
import { badInput, conflict, notFound } from "../platform/errors";
import { newId } from "../platform/ids";

export class GroupService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async createGroup(name: string, description: string | null | undefined): Promise<Group> {
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
      await this.db.transaction(({ manager }) => manager.insert(Group, group));
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict("GROUP_NAME_TAKEN", `A group named ${trimmed} exists already`);
      throw error;
    }
    return group;
  }

  list(): Promise<Group[]> {
    return this.db.manager.find(Group, { order: { nameNormalized: "ASC" } });
  }

  /** Adding a member twice is not an error: the membership simply exists. */
  async addMember(userId: string, groupId: string): Promise<Group> {
    return this.db.transaction(async ({ manager }) => {
      const group = await manager.findOneBy(Group, { id: groupId });
      if (!group) throw notFound("Group");
      if (!(await manager.existsBy(User, { id: userId }))) throw notFound("User");
      if (!(await manager.existsBy(GroupMember, { groupId, userId }))) {
        await manager.insert(GroupMember, { groupId, userId, added: this.clock.now() });
      }
      return group;
    });
  }

  async removeMember(userId: string, groupId: string): Promise<Group> {
    return this.db.transaction(async ({ manager }) => {
      const group = await manager.findOneBy(Group, { id: groupId });
      if (!group) throw notFound("Group");
      if (!(await manager.existsBy(User, { id: userId }))) throw notFound("User");
      await manager.delete(GroupMember, { groupId, userId });
      return group;
    });
  }
}
