import type { MigrationInterface, QueryRunner } from "typeorm";

export class LookupIndexes1796675895646 implements MigrationInterface {
  name = "LookupIndexes1796675895646";

  public async up(queryRunner: QueryRunner): Promise<void> {
    // IF NOT EXISTS, so that on a large table they may be built CONCURRENTLY beforehand. Such a
    // build that was cancelled (a statement timeout) leaves the index invalid, unused by every
    // query yet kept up by every write: that one is dropped and built here.
    for (const [index, table, column] of [
      ["challenges_transaction", "challenges", "transaction_id"],
      ["messages_user", "messages", "user_id"],
    ] as const) {
      const [invalid] = await queryRunner.query(
        `SELECT 1 FROM "pg_index" "i" JOIN "pg_class" "c" ON "c"."oid" = "i"."indexrelid" WHERE "c"."relname" = $1 AND "c"."relnamespace" = current_schema()::regnamespace AND NOT "i"."indisvalid"`,
        [index],
      );
      if (invalid) await queryRunner.query(`DROP INDEX "${index}"`);
      await queryRunner.query(`CREATE INDEX IF NOT EXISTS "${index}" ON "${table}" ("${column}")`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS "messages_user"`);
    await queryRunner.query(`DROP INDEX IF EXISTS "challenges_transaction"`);
  }
}
