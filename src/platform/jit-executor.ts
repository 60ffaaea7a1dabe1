import type { ApolloServerOptionsWithGateway, BaseContext } from "@apollo/server";
import { execute, getVariableValues, GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";

/** A document is compiled once it has run this many times: one-off documents (and a flood of them) never pay for compilation. */
export const JIT_AFTER_EXECUTIONS = 2;
/** graphql-js's own default for how many bad variables one answer lists. */
const MAX_VARIABLE_ERRORS = 50;

/** Apollo Server's gateway interface (its package is Apollo's, not a dependency of ours). */
type Gateway = ApolloServerOptionsWithGateway<BaseContext>["gateway"];

interface DocumentState {
  executions: number;
  /** By operation name; null where graphql-jit refused the operation (graphql-js runs it). */
  compiled: Map<string, CompiledQuery | null>;
}

/**
 * Runs each operation through graphql-jit once its document has proved it is not a one-off: a
 * compiled query executes a selection as straight-line code, where graphql-js walks the document
 * per request (collecting fields, building argument maps, checking each value's type). Apollo
 * Server 5 takes a custom executor only through its `gateway` option; this is a local one, serving
 * the same schema it was given. Documents are keyed by identity: Apollo's document store hands the
 * same parsed document to every request with the same text, and forgets them as it evicts.
 */
export function jitGateway(schema: GraphQLSchema, compileAfter = JIT_AFTER_EXECUTIONS): Gateway {
  const documents = new WeakMap<DocumentNode, DocumentState>();

  const compiledFor = (document: DocumentNode, operationName: string | undefined): CompiledQuery | null => {
    let state = documents.get(document);
    if (!state) {
      state = { executions: 0, compiled: new Map() };
      documents.set(document, state);
    }
    const key = operationName ?? "";
    const compiled = state.compiled.get(key);
    if (compiled !== undefined) return compiled;
    state.executions += 1;
    if (state.executions < compileAfter) return null;
    let usable: CompiledQuery | null = null;
    try {
      const result = compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true });
      if (isCompiledQuery(result)) usable = result;
    } catch {
      // Whatever graphql-jit cannot compile, graphql-js still runs: its answer is the reference.
    }
    state.compiled.set(key, usable);
    return usable;
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    async load() {
      return {
        executor: async (request) => {
          const document = request.document!;
          const variables = request.request.variables;
          const compiled = compiledFor(document, request.operationName ?? undefined);
          if (!compiled) {
            return execute({ schema, document, contextValue: request.context, variableValues: variables, operationName: request.operationName });
          }
          // graphql-js words a bad variable better (its path, the variable's own name) and ties
          // the error to the variable's definition, which is what makes Apollo answer it as
          // BAD_USER_INPUT; the compiled query checks the same values again, and finds them good.
          const definitions = request.operation?.variableDefinitions;
          if (definitions?.length) {
            const coerced = getVariableValues(schema, definitions, variables ?? {}, { maxErrors: MAX_VARIABLE_ERRORS });
            if (coerced.errors) return { errors: coerced.errors };
          }
          return withGraphQLJsErrors(await compiled.query(undefined, request.context, variables ?? {}));
        },
      };
    },
    async stop() {},
  };
}

/**
 * graphql-jit's errors pass as graphql-js's (they share its prototype) but their fields are
 * read-only, and Apollo's plugins may rewrite an error's message (BLOCK_FIELD_SUGGESTIONS does):
 * past this point every error is a graphql-js one, whichever executor made it.
 */
function withGraphQLJsErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((error) => {
    const copy = new GraphQLError(error.message, { path: error.path, originalError: error.originalError ?? undefined, extensions: error.extensions });
    // The compiled query knows the locations but not the nodes graphql-js would derive them from.
    (copy as { locations?: GraphQLError["locations"] }).locations = error.locations;
    return copy;
  });
  return { ...result, errors };
}
