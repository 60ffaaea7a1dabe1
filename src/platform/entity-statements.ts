import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { commitWith, preparedStatements, type CallbackQueryClient } from "./pg-client";

type Values<T> = { [K in keyof T]?: T[K] };

interface Prepared {
  sql: string;
  /** The columns whose values the statement binds, in order. */
  parameters: ColumnMetadata[];
}

/** Rows to insert into one entity's table. */
export interface RowsOf {
  entity: EntityTarget<ObjectLiteral>;
  rows: ObjectLiteral[];
}

/**
 * The hot paths' reads and writes by key, as SQL written once per entity and shape of call
 * and run as prepared statements (on PostgreSQL, named ones: see PreparedStatementNames).
 * TypeORM's query builder rebuilds the SQL of a findOneBy, insert or update on every call
 * (aliases, property-to-column rewriting, parameter escaping)
 * and hydrates through its generic transformer: on the passcode path that was as much CPU as
 * the statements themselves. The entities' metadata stays the single source of truth: columns,
 * names, transformers and types come from it, and values go through the driver's own
 * conversions both ways.
 *
 * Only plain equality on given values: a null or undefined condition is refused rather than
 * guessed at (TypeORM's own methods give those their own meanings).
 */
export class EntityStatements {
  private readonly prepared = new Map<string, Prepared>();
  private readonly numbered = new Map<string, string>();
  private readonly postgres: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === "postgres";
  }

  async findOneBy<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, where: Values<T>): Promise<T | null> {
    const metadata = this.dataSource.getMetadata(entity);
    const keys = conditionKeys(where);
    const statement = this.statement(`${metadata.name}\u0000find\u0000${keys.join(",")}`, () => {
      const conditions = keys.map((key) => this.column(metadata, key));
      const select = metadata.columns.map((column) => this.quote(column.databaseName)).join(", ");
      return {
        sql: `SELECT ${select} FROM ${this.quote(metadata.tableName)} WHERE ${this.conditions(conditions, 0)} LIMIT 1`,
        parameters: conditions,
      };
    });
    const [row] = await this.run(manager, statement, where as ObjectLiteral, (runner, sql, parameters) => runner.query(sql, parameters));
    return row ? this.hydrate(metadata, row as ObjectLiteral) : null;
  }

  /** findOneBy for a row that must exist: its absence is a bug, not a caller's mistake. */
  async findOneByOrFail<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, where: Values<T>): Promise<T> {
    const found = await this.findOneBy(manager, entity, where);
    if (!found) throw new Error(`No ${this.dataSource.getMetadata(entity).name} matches ${JSON.stringify(where)}`);
    return found;
  }

  /** Inserts one row with the values given (the others take their column defaults); nothing is read back. */
  async insert<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, values: Values<T>): Promise<void> {
    const metadata = this.dataSource.getMetadata(entity);
    const keys = givenColumns(metadata, values);
    const statement = this.statement(`${metadata.name}\u0000insert\u0000${keys.join(",")}`, () => {
      const columns = keys.map((key) => this.column(metadata, key));
      const placeholders = columns.map((_, index) => this.placeholder(index)).join(", ");
      return {
        sql: `INSERT INTO ${this.quote(metadata.tableName)} (${columns.map((column) => this.quote(column.databaseName)).join(", ")}) VALUES (${placeholders})`,
        parameters: columns,
      };
    });
    await this.run(manager, statement, values as ObjectLiteral, (runner, sql, parameters) => runner.query(sql, parameters));
  }

  /**
   * Inserts into several tables at once, in order: a System Log event and its targets. On
   * PostgreSQL that is one statement, and so one round trip: the inserts before the last run as
   * data-modifying WITH clauses, which PostgreSQL runs to completion whether or not anything
   * reads them. SQLite takes no INSERT in WITH, and a statement there is a function call: one
   * statement per table. Within a table, every row gives values for the same columns, and the
   * rows go in one statement, prepared per column set and row count.
   */
  async insertAll(manager: EntityManager, inserts: ReadonlyArray<RowsOf>): Promise<void> {
    for (const { statement, values } of this.insertAllStatements(inserts)) {
      await this.runOrdered(manager, statement, values, (runner, sql, parameters) => runner.query(sql, parameters));
    }
  }

  /**
   * PostgreSQL: insertAll's one statement, for the transaction's COMMIT to carry
   * (Transaction.commitWith); null when there is no row to insert.
   */
  insertAllLater(inserts: ReadonlyArray<RowsOf>): { sql: string; parameters: unknown[]; numbered: true } | null {
    if (!this.postgres) throw new Error("insertAllLater writes PostgreSQL's statement");
    const [only] = this.insertAllStatements(inserts);
    if (!only) return null;
    return { sql: only.statement.sql, parameters: this.persistentValues(only.statement, only.values), numbered: true };
  }

  /** On PostgreSQL one statement (each insert but the last a WITH clause); on SQLite one per entity. */
  private insertAllStatements(inserts: ReadonlyArray<RowsOf>): { statement: Prepared; values: unknown[] }[] {
    const shapes = inserts
      .filter(({ rows }) => rows.length > 0)
      .map(({ entity, rows }) => {
        const metadata = this.dataSource.getMetadata(entity);
        const keys = givenColumns(metadata, rows[0]!);
        for (const row of rows.slice(1)) {
          if (givenColumns(metadata, row).join(",") !== keys.join(",")) throw new Error(`Rows of one ${metadata.name} insert must set the same columns`);
        }
        return { metadata, keys, rows, key: `${metadata.name}\u0000${rows.length}\u0000${keys.join(",")}` };
      });
    const groups = this.postgres ? [shapes] : shapes.map((shape) => [shape]);
    return groups
      .filter((group) => group.length > 0)
      .map((group) => {
        const statement = this.statement(`insertAll\u0000${group.map((shape) => shape.key).join("\u0001")}`, () => {
          let offset = 0;
          const parts = group.map(({ metadata, keys, rows }) => {
            const columns = keys.map((key) => this.column(metadata, key));
            const tuples = rows.map((_, row) => `(${columns.map((_, index) => this.placeholder(offset + row * columns.length + index)).join(", ")})`);
            offset += rows.length * columns.length;
            return {
              sql: `INSERT INTO ${this.quote(metadata.tableName)} (${columns.map((column) => this.quote(column.databaseName)).join(", ")}) VALUES ${tuples.join(", ")}`,
              parameters: rows.flatMap(() => columns),
            };
          });
          const written = parts.slice(0, -1).map((part, index) => `${this.quote(`written${index}`)} AS (${part.sql})`);
          return {
            sql: `${written.length ? `WITH ${written.join(", ")} ` : ""}${parts.at(-1)!.sql}`,
            parameters: parts.flatMap((part) => part.parameters),
          };
        });
        return { statement, values: group.flatMap(({ keys, rows }) => rows.flatMap((row) => keys.map((key) => row[key]))) };
      });
  }

  /** Sets `changes` on the rows matching `where`; resolves with how many rows matched. */
  async update<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, where: Values<T>, changes: Values<T>): Promise<number> {
    const metadata = this.dataSource.getMetadata(entity);
    const whereKeys = conditionKeys(where);
    const setKeys = Object.keys(changes).filter((key) => changes[key] !== undefined);
    if (!setKeys.length) throw new Error(`An update of ${metadata.name} must change something`);
    const statement = this.statement(`${metadata.name}\u0000update\u0000${setKeys.join(",")}\u0000${whereKeys.join(",")}`, () => {
      const set = setKeys.map((key) => this.column(metadata, key));
      const conditions = whereKeys.map((key) => this.column(metadata, key));
      const assignments = set.map((column, index) => `${this.quote(column.databaseName)} = ${this.placeholder(index)}`).join(", ");
      return {
        sql: `UPDATE ${this.quote(metadata.tableName)} SET ${assignments} WHERE ${this.conditions(conditions, set.length)}`,
        parameters: [...set, ...conditions],
      };
    });
    // The same property may be both set and matched on (status from PENDING to VERIFIED): the values are taken in statement order.
    const ordered = [...setKeys.map((key) => changes[key]), ...whereKeys.map((key) => where[key])];
    const result = await this.runOrdered(manager, statement, ordered, (runner, sql, parameters) => runner.query(sql, parameters, true));
    return result.affected ?? 0;
  }

  /**
   * A write whose conditions go beyond equality (an attempt spent only while some remain), in
   * the caller's SQL with `?` placeholders, numbered here for PostgreSQL. Values are bound as
   * given: timestamps as epoch milliseconds, as the columns store them. Resolves with how many
   * rows it changed.
   */
  async write(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number> {
    const result = (await this.runWritten(manager, sql, parameters, true)) as { affected?: number };
    return result.affected ?? 0;
  }

  /**
   * A write as for write(), which gives back the rows it changed, read by the same statement
   * (RETURNING, on both engines): what the write saw, with no second read for another write
   * to slip in before.
   */
  async writeReturning<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, sql: string, parameters: unknown[]): Promise<T[]> {
    const metadata = this.dataSource.getMetadata(entity);
    const returning = metadata.columns.map((column) => this.quote(column.databaseName)).join(", ");
    const result = (await this.runWritten(manager, `${sql} RETURNING ${returning}`, parameters, true)) as { records?: ObjectLiteral[] };
    return (result.records ?? []).map((row) => this.hydrate<T>(metadata, row));
  }

  /** A read in the caller's SQL with `?` placeholders, as for write(); resolves with the raw rows. */
  query<Row>(manager: EntityManager, sql: string, parameters: unknown[]): Promise<Row[]> {
    return this.runWritten(manager, sql, parameters, false) as Promise<Row[]>;
  }

  /**
   * PostgreSQL: writes as for write(), sent with the COMMIT of the transaction `manager` runs
   * (see commitWith in pg-client); resolves with each write's outcome, then the COMMIT's.
   */
  async writeWithCommit(manager: EntityManager, writes: readonly { sql: string; parameters: unknown[]; numbered?: boolean }[]): Promise<PromiseSettledResult<unknown>[]> {
    const runner = manager.queryRunner;
    if (!this.postgres || !runner?.isTransactionActive) throw new Error("writeWithCommit ends a PostgreSQL transaction");
    const client = (await runner.connect()) as CallbackQueryClient;
    const statements = writes.map(({ sql, parameters, numbered }) => ({ text: numbered ? sql : this.numberedFor(sql), values: parameters }));
    // Logged as TypeORM logs what it sends itself: SQL traces and the per-request statement counts see them.
    for (const { text, values } of statements) this.dataSource.logger.logQuery(text, values, runner);
    return commitWith(client, statements);
  }

  private async runWritten(manager: EntityManager, sql: string, parameters: unknown[], structured: boolean): Promise<unknown> {
    const owned = manager.queryRunner ? null : manager.dataSource.createQueryRunner();
    const runner = manager.queryRunner ?? owned!;
    try {
      const text = this.numberedFor(sql);
      return structured ? await runner.query(text, parameters, true) : await runner.query(text, parameters);
    } finally {
      if (owned) await owned.release();
    }
  }

  /** `?` placeholders as the engine takes them: as written for SQLite, `$1, $2, ...` for PostgreSQL. */
  private numberedFor(sql: string): string {
    if (!this.postgres) return sql;
    let text = this.numbered.get(sql);
    if (text === undefined) {
      let index = 0;
      text = sql.replace(/\?/g, () => `$${++index}`);
      this.numbered.set(sql, text);
      preparedStatements.allow(text);
    }
    return text;
  }

  private statement(key: string, build: () => Prepared): Prepared {
    let statement = this.prepared.get(key);
    if (!statement) {
      statement = build();
      this.prepared.set(key, statement);
      if (this.postgres) preparedStatements.allow(statement.sql);
    }
    return statement;
  }

  private run<R>(manager: EntityManager, statement: Prepared, values: ObjectLiteral, query: (runner: QueryRunner, sql: string, parameters: unknown[]) => Promise<R>): Promise<R> {
    return this.runOrdered(
      manager,
      statement,
      statement.parameters.map((column) => values[column.propertyName]),
      query,
    );
  }

  private async runOrdered<R>(
    manager: EntityManager,
    statement: Prepared,
    values: unknown[],
    query: (runner: QueryRunner, sql: string, parameters: unknown[]) => Promise<R>,
  ): Promise<R> {
    const parameters = this.persistentValues(statement, values);
    // In a transaction the manager has its runner; outside one, a runner is borrowed from the
    // manager's own data source (on SQLite, the reader: see createReaderDataSource).
    const owned = manager.queryRunner ? null : manager.dataSource.createQueryRunner();
    try {
      return await query(manager.queryRunner ?? owned!, statement.sql, parameters);
    } finally {
      if (owned) await owned.release();
    }
  }

  /** Values as the columns store them (dates as epoch ms, JSON as text), in the statement's order. */
  private persistentValues(statement: Prepared, values: unknown[]): unknown[] {
    const driver = this.dataSource.driver;
    return statement.parameters.map((column, index) => driver.preparePersistentValue(values[index], column));
  }

  private hydrate<T>(metadata: EntityMetadata, row: ObjectLiteral): T {
    const entity = metadata.create(undefined, { fromDeserializer: true }) as T;
    for (const column of metadata.columns) {
      column.setEntityValue(entity as ObjectLiteral, this.dataSource.driver.prepareHydratedValue(row[column.databaseName], column));
    }
    return entity;
  }

  private column(metadata: EntityMetadata, propertyName: string): ColumnMetadata {
    const column = metadata.findColumnWithPropertyName(propertyName);
    if (!column) throw new Error(`${metadata.name} has no column ${propertyName}`);
    return column;
  }

  private conditions(columns: ColumnMetadata[], offset: number): string {
    return columns.map((column, index) => `${this.quote(column.databaseName)} = ${this.placeholder(offset + index)}`).join(" AND ");
  }

  private placeholder(index: number): string {
    return this.postgres ? `$${index + 1}` : "?";
  }

  private quote(name: string): string {
    return `"${name}"`;
  }
}

/** The properties given a value that are columns: an entity instance may carry others, and TypeORM leaves them out too. */
function givenColumns(metadata: EntityMetadata, values: ObjectLiteral): string[] {
  return Object.keys(values).filter((key) => values[key] !== undefined && metadata.findColumnWithPropertyName(key));
}

function conditionKeys(where: ObjectLiteral): string[] {
  const keys = Object.keys(where);
  if (!keys.length) throw new Error("A statement by key needs at least one condition");
  for (const key of keys) {
    if (where[key] === null || where[key] === undefined) throw new Error(`The condition on ${key} has no value`);
  }
  return keys;
}
