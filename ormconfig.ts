import "reflect-metadata";
import { loadConfig } from "./src/platform/config";
import { createDataSource } from "./src/platform/data-source";

/** The TypeORM DataSource for the CLI: SQLite in DATA_DIR, or PostgreSQL when DATABASE_URL is set. */
export default createDataSource(loadConfig());
