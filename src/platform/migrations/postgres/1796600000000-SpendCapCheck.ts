import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * PostgreSQL only: the spend caps' check inside the statement that adds a send's cost, so that
 * the statement can travel with its transaction's COMMIT (see SendGuard.recordSend). Raising
 * aborts the transaction, and PostgreSQL answers the COMMIT behind it with a ROLLBACK.
 */
export class SpendCapCheck1796600000000 implements MigrationInterface {
  name = "SpendCapCheck1796600000000";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE FUNCTION "ringfence_within_spend_caps"("total" bigint, "day_cap" bigint, "month_cap" bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF "total" > "day_cap" THEN
    RAISE EXCEPTION 'the day''s telephony spend cap is reached' USING ERRCODE = 'RF001', DETAIL = "total"::text;
  END IF;
  IF "total" > "month_cap" THEN
    RAISE EXCEPTION 'the month''s telephony spend cap is reached' USING ERRCODE = 'RF002', DETAIL = "total"::text;
  END IF;
  RETURN true;
END
$$`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION "ringfence_within_spend_caps"(bigint, bigint, bigint)`);
  }
}
