import { BREAK, Kind, visit, type ASTNode, type DocumentNode, type ValueNode } from "graphql";

/**
 * The path of a value written in `document` ("input.rules[0].priority"), from the argument that
 * holds it down to `target`, as errors.md names a field and graphql-js names a variable's; or
 * undefined when no argument holds it. `target` is found by its place in the document, so it may
 * come from another parse of the same text.
 */
export function writtenArgumentPath(document: DocumentNode, target: ASTNode): string | undefined {
  const at = target.loc?.start;
  if (at === undefined) return undefined;
  const encloses = (node: ASTNode) => !!node.loc && node.loc.start <= at && at < node.loc.end;
  let path: string | undefined;
  visit(document, {
    Argument(argument) {
      if (!encloses(argument)) return undefined;
      path = valuePath(argument.name.value, argument.value, target, encloses);
      return BREAK;
    },
  });
  return path;
}

function valuePath(start: string, value: ValueNode, target: ASTNode, encloses: (node: ASTNode) => boolean): string {
  let path = start;
  let node: ValueNode = value;
  for (;;) {
    if (node.loc?.start === target.loc?.start && node.kind === target.kind) return path;
    if (node.kind === Kind.OBJECT) {
      const field = node.fields.find(encloses);
      if (!field) return path;
      path += `.${field.name.value}`;
      if (target.kind === Kind.OBJECT_FIELD && field.loc?.start === target.loc?.start) return path;
      node = field.value;
    } else if (node.kind === Kind.LIST) {
      const index = node.values.findIndex(encloses);
      if (index < 0) return path;
      path += `[${index}]`;
      node = node.values[index]!;
    } else {
      return path;
    }
  }
}
