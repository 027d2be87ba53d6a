/** Field builders shared by the config's schema files: each says in words what was expected. */
import { z } from 'zod';

/** A string field whose messages say what was expected, for a missing value and for a wrong one alike. */
export const text = (expected: string, valid: (s: string) => boolean = () => true) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `required: ${expected}` : `expected ${expected}`) })
    .refine(valid, { error: `expected ${expected}` });

export const integer = (expected: string, min: number, max: number) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? `required: ${expected}` : `expected ${expected}`) })
    .int({ error: `expected ${expected}` })
    .min(min, { error: `expected ${expected}` })
    .max(max, { error: `expected ${expected}` });

/** An object of known keys; a wrong type says so in words (unknown keys are reported by parseConfig). */
export const object = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    error: (issue) => (issue.input === undefined ? 'required: an object' : 'expected an object'),
  });
