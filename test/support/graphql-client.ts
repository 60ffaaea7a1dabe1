import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data: T | null;
  errors: GraphQLFormattedError[] | undefined;
}

/** Talks to the gateway as a client would: JSON over HTTP with the typed documents from codegen. */
export class GraphQLClient {
  constructor(
    readonly url: string,
    readonly authorization?: string,
  ) {}

  async request<T, V>(document: TypedDocumentNode<T, V>, variables?: V, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
    return this.raw<T>(JSON.stringify({ query: print(document), variables }), headers);
  }

  async raw<T = unknown>(body: string, headers: Record<string, string> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(this.authorization ? { authorization: this.authorization } : {}),
        ...headers,
      },
      body,
    });
    const text = await response.text();
    let json: { data?: T | null; errors?: GraphQLFormattedError[] };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`Not JSON (${response.status}): ${text.slice(0, 300)}`);
    }
    return { status: response.status, headers: response.headers, data: json.data ?? null, errors: json.errors };
  }

  /** The data, or a thrown error naming every GraphQL error: for steps that must succeed. */
  async ok<T, V>(document: TypedDocumentNode<T, V>, variables?: V): Promise<T> {
    const result = await this.request(document, variables);
    if (result.errors?.length || !result.data) {
      throw new Error(`Expected success, got ${result.status}: ${JSON.stringify(result.errors)}`);
    }
    return result.data;
  }

  /** The first error's code and extensions: for steps that must fail. */
  async fails<T, V>(document: TypedDocumentNode<T, V>, variables?: V): Promise<GraphQLFormattedError & { code: string; status: number }> {
    const result = await this.request(document, variables);
    const error = result.errors?.[0];
    if (!error) throw new Error(`Expected an error, got ${JSON.stringify(result.data)}`);
    return { ...error, code: String(error.extensions?.code), status: result.status };
  }
}
