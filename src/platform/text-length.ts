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

/** A string of `min` to `max` code points, refused with `message` ($constraint1 is min, $constraint2 max). */
function characters(name: string, min: number, max: number, message: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name,
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== "string") return false;
          const length = codePoints(value);
          return length >= min && length <= max;
        },
        defaultMessage: buildMessage((prefix) => `${prefix}$property ${message}`, options),
      },
    },
    options,
  );
}

/** As class-validator's Length, counted in code points. */
export function Length(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return characters("characters", min, max, "must be from $constraint1 to $constraint2 characters long", options);
}

/** As class-validator's MaxLength, counted in code points. */
export function MaxLength(max: number, options?: ValidationOptions): PropertyDecorator {
  return characters("maxCharacters", 0, max, "must be at most $constraint2 characters long", options);
}
