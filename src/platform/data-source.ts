import path from "node:path";
import fs from "node:fs";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { Config } from "./config";
import { entities } from "./entities";
import { postgresMigrations, sqliteMigrations } from "./migrations";

export type DatabaseConfig = Pick<Config, "engine" | "databaseUrl" | "databaseSchema" | "dataDir">;

export function sqliteFile(config: Pick<Config, "dataDir">): string {
  return path.join(config.dataDir, "ringfence.sqlite");
}

export function dataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  const common = { entities, synchronize: false, migrationsRun: false, logging: false } as const;
  if (config.engine === "postgres") {
    return {
      ...common,
      type: "postgres",
      url: config.databaseUrl ?? undefined,
      migrations: postgresMigrations,
      migrationsTableName: "migrations",
      extra: {
        max: 20,
        connectionTimeoutMillis: 5_000,
        idleTimeoutMillis: 30_000,
        // A statement that runs this long is a bug or an attack; fail it rather than hold a connection.
        statement_timeout: 15_000,
        application_name: "ringfence",
        // A named schema is selected through search_path so that migrations stay unqualified.
        ...(config.databaseSchema ? { options: `-c search_path=${config.databaseSchema}` } : {}),
      },
    };
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  return {
    ...common,
    type: "better-sqlite3",
    database: sqliteFile(config),
    migrations: sqliteMigrations,
    migrationsTableName: "migrations",
    // WAL lets readers proceed while the single writer commits; busy_timeout covers a second process.
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      db.pragma("foreign_keys = ON");
    },
  };
}

export function createDataSource(config: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(config));
}

/** Creates the PostgreSQL schema when one is named (each test server gets a fresh one). */
export async function ensureSchema(config: DatabaseConfig): Promise<void> {
  if (config.engine !== "postgres" || !config.databaseSchema) return;
  const bootstrap = new DataSource({ type: "postgres", url: config.databaseUrl ?? undefined });
  await bootstrap.initialize();
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${config.databaseSchema}"`);
  } finally {
    await bootstrap.destroy();
  }
}
