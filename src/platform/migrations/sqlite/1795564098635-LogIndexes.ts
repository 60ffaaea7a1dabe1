import type { MigrationInterface, QueryRunner } from "typeorm";

export class LogIndexes1795564098635 implements MigrationInterface {
  name = "LogIndexes1795564098635";

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "log_event_targets_id"`);
    await queryRunner.query(`CREATE INDEX "log_events_outcome_published" ON "log_events" ("outcome_result", "published") `);
    await queryRunner.query(`CREATE INDEX "log_events_severity_published" ON "log_events" ("severity", "published") `);
    await queryRunner.query(`CREATE INDEX "log_event_targets_id_event" ON "log_event_targets" ("id", "event_uuid") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "log_event_targets_id_event"`);
    await queryRunner.query(`DROP INDEX "log_events_severity_published"`);
    await queryRunner.query(`DROP INDEX "log_events_outcome_published"`);
    await queryRunner.query(`CREATE INDEX "log_event_targets_id" ON "log_event_targets" ("id") `);
  }
}
