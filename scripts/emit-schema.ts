/**
 * Writes the SDL emitted from the type-graphql classes to schema/schema.graphql, or with
 * --check fails when the committed file is stale (CI runs the check).
 */
import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { lexicographicSortSchema, printSchema } from "graphql";
import { buildGatewaySchema } from "../src/platform/schema";

async function main(): Promise<void> {
  const schema = await buildGatewaySchema();
  const sdl = `# Emitted from the type-graphql classes by \`npm run schema:emit\`; do not edit.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
  const file = path.join(__dirname, "..", "schema", "schema.graphql");
  if (process.argv.includes("--check")) {
    const committed = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
    if (committed !== sdl) {
      console.error("schema/schema.graphql is stale: run `npm run schema:emit` and commit it.");
      process.exit(1);
    }
    console.log("schema/schema.graphql is up to date.");
    return;
  }
  fs.writeFileSync(file, sdl);
  console.log(`Wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
