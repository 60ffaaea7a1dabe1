/**
 * npm run migration:generate -- <Name>   writes the migration that brings the schema of the
 *                                          engine in use up to the entities (SQLite unless
 *                                          DATABASE_URL names PostgreSQL);
 * npm run migration:run                   applies pending migrations, taking turns with
 *                                          instances starting meanwhile (withStartupLock).
 * Generation runs against a throw-away database (a temp SQLite file or a fresh PostgreSQL
 * schema) migrated to the current head, so it never depends on a developer's local state.
 */
import "reflect-metadata";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { DataSource } from "typeorm";
import { loadConfig, type Config } from "../src/platform/config";
import { createDataSource, ensureSchema, migrate } from "../src/platform/data-source";

async function generate(name: string, config: Config): Promise<void> {
  if (!/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error("Give the migration a PascalCase name, e.g. AddChallenges");
  const scratch: Config =
    config.engine === "postgres"
      ? { ...config, databaseSchema: `rf_gen_${randomBytes(4).toString("hex")}` }
      : { ...config, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "rf-gen-")) };
  await ensureSchema(scratch);
  const dataSource = createDataSource(scratch);
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: "each" });
    const sql = await dataSource.driver.createSchemaBuilder().log();
    if (sql.upQueries.length === 0) {
      console.log(`No changes for ${config.engine}: the migrations already match the entities.`);
      return;
    }
    const timestamp = Date.now();
    const className = `${name}${timestamp}`;
    const quote = (query: string) => "`" + query.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${") + "`";
    // The scratch schema's name must not leak into a migration that runs in any schema.
    const unqualified = (query: string) =>
      scratch.databaseSchema ? query.split(`"${scratch.databaseSchema}".`).join("") : query;
    const lines = (queries: { query: string }[]) =>
      queries.map((q) => `    await queryRunner.query(${quote(unqualified(q.query))});`).join("\n");
    const body = `import type { MigrationInterface, QueryRunner } from "typeorm";

export class ${className} implements MigrationInterface {
  name = "${className}";

  public async up(queryRunner: QueryRunner): Promise<void> {
${lines(sql.upQueries)}
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
${lines([...sql.downQueries].reverse())}
  }
}
`;
    const dir = path.join(__dirname, "..", "src", "platform", "migrations", config.engine);
    const file = path.join(dir, `${timestamp}-${name}.ts`);
    fs.writeFileSync(file, body);
    registerMigration(config.engine, `${timestamp}-${name}`, className);
    console.log(`Wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    if (scratch.engine === "postgres") await dataSource.query(`DROP SCHEMA "${scratch.databaseSchema}" CASCADE`);
    await dataSource.destroy();
  }
}

function registerMigration(engine: Config["engine"], fileName: string, className: string): void {
  const indexFile = path.join(__dirname, "..", "src", "platform", "migrations", "index.ts");
  let index = fs.readFileSync(indexFile, "utf8");
  const marker = engine === "postgres" ? "// MIGRATIONS-POSTGRES" : "// MIGRATIONS-SQLITE";
  const listName = engine === "postgres" ? "postgresMigrations" : "sqliteMigrations";
  index = index.replace(marker, `import { ${className} } from "./${engine}/${fileName}";\n${marker}`);
  index = index.replace(new RegExp(`(export const ${listName}: Function\\[\\] = \\[)([^\\]]*)\\]`), (_m, head: string, items: string) => {
    const existing = items.trim() ? items.trim().replace(/,$/, "") + ", " : "";
    return `${head}${existing}${className}]`;
  });
  fs.writeFileSync(indexFile, index);
}

async function run(config: Config): Promise<void> {
  await ensureSchema(config);
  const dataSource: DataSource = createDataSource(config);
  await dataSource.initialize();
  try {
    const applied = await migrate(dataSource);
    console.log(applied.length ? `Applied ${applied.map((m) => m.name).join(", ")}` : "No pending migrations.");
  } finally {
    await dataSource.destroy();
  }
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const config = loadConfig();
  if (command === "generate") await generate(name ?? "", config);
  else if (command === "run") await run(config);
  else throw new Error("usage: migration.ts generate <Name> | run");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
