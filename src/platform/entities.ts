import { ApiToken } from "../auth/api-token.entity";
import { Group, GroupMember } from "../groups/group.entity";
import { User } from "../users/user.entity";

/** Every table the gateway owns; migrations are generated from these. */
export const entities = [User, Group, GroupMember, ApiToken];
