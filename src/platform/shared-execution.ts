import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
import { mapAsyncIterator } from "graphql/execution/mapAsyncIterator";

type Execution = ExecutionResult | Promise<ExecutionResult>;

/**
 * graphql-ws's `subscribe`: graphql's own, except that an event is executed once for all the
 * subscriptions that would execute it alike, and each of them sends that one result. A
 * dashboard fleet subscribes with the same few documents, so a fan-out to ten thousand costs
 * one execution instead of ten thousand (and none of their garbage).
 *
 * `audienceOf` names who a subscription executes as ("admin"), or null to execute it alone;
 * results are shared only between subscriptions with the same document (by text: documents
 * come from a cache keyed by text), operation, variables and audience. Executions are held
 * per event object, and go with it.
 */
export function sharedSubscribe(audienceOf: (contextValue: unknown) => string | null) {
  const executions = new WeakMap<object, Map<string, Execution>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const documentId = (document: DocumentNode): number => {
    let id = documentIds.get(document);
    if (id === undefined) {
      id = (nextDocumentId += 1);
      documentIds.set(document, id);
    }
    return id;
  };

  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    const audience = audienceOf(args.contextValue);
    const key = audience === null ? null : `${documentId(args.document)}\u0000${args.operationName ?? ""}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${audience}`;
    const executeFor = (payload: unknown): Execution => execute({ ...args, rootValue: payload });
    return mapAsyncIterator(source, (payload: unknown) => {
      // Ends of subscriptions (errors) and other one-off payloads are their subscriber's own.
      if (key === null || payload === null || typeof payload !== "object") return executeFor(payload);
      let byKey = executions.get(payload);
      if (!byKey) {
        byKey = new Map();
        executions.set(payload, byKey);
      }
      let execution = byKey.get(key);
      if (!execution) {
        execution = executeFor(payload);
        byKey.set(key, execution);
      }
      return execution;
    });
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}
