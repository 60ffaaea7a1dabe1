/**
 * `@ObjectType(PLAIN_DATA)`: for types whose fields are plain properties. graphql-js then reads
 * each field directly instead of through type-graphql's per-field wrapper, which allocates a
 * resolver-data object for every field of every object: a System Log page is thousands of them.
 * type-graphql would silently skip a field-level `@Authorized` or middleware on such a type, so
 * test/unit/platform/plain-data.test.ts refuses both.
 */
export const PLAIN_DATA = { simpleResolvers: true } as const;
