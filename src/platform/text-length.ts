import { buildMessage, ValidateBy, type ValidationOptions } from "class-validator";

/**
 * Text length as PostgreSQL's varchar(n) counts it: in code points. class-validator's Length
 * counts surrogate pairs once but also skips variation selectors (U+FE0E, U+FE0F), so a name
 * it passed at 128 could be 256 characters to the column, and fail INTERNAL inside the write.
 */
export function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** As class-validator's Length, counted in code points. */
export function Length(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "characters",
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => typeof value === "string" && codePoints(value) >= min && codePoints(value) <= max,
        defaultMessage: buildMessage((prefix) => `${prefix}$property must be from $constraint1 to $constraint2 characters long`, options),
      },
    },
    options,
  );
}

/** As class-validator's MaxLength, counted in code points. */
export function MaxLength(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "maxCharacters",
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === "string" && codePoints(value) <= max,
        defaultMessage: buildMessage((prefix) => `${prefix}$property must be at most $constraint1 characters long`, options),
      },
    },
    options,
  );
}
