/**
 * Option objects hold only the names we know. A misspelt name (`ssec`, `identty`, `requestTimeout`)
 * would otherwise be ignored without a word, and what the caller asked for (an SSE-C layer, an
 * identity binding, a timeout) silently not be applied.
 * @module
 */
import { SosError } from './errors.ts';

/**
 * Checks that `value` (an object) has no own property outside `known`.
 * @param name - The option's path in messages, e.g. `encryption.clientSide`.
 * @throws {SosError} `INVALID_ARGUMENT` naming the unknown property and the known ones.
 */
export function refuseUnknownOptions(value: object, known: readonly string[], name: string): void {
  for (const property of Object.keys(value)) {
    if (!known.includes(property)) {
      throw new SosError(
        'INVALID_ARGUMENT',
        `"${name}.${property.slice(0, 64)}" is not an option: expected ${known.join(', ')}`,
      );
    }
  }
}

/**
 * The option names of `T`, checked by the compiler both ways: a name that is not an option of `T`
 * is a type error, and so is leaving one out (`complete` is then of type `never`), so that a new
 * option cannot be added to an interface and refused at run time.
 * @example
 * const GET_OPTIONS = optionNames<GetObjectOptions>()(['client', 'bucket', ...], true);
 */
export function optionNames<T>() {
  return <const N extends readonly (keyof T & string)[]>(
    names: N,
    complete: [Exclude<keyof T, N[number]>] extends [never] ? true : never,
  ): N => {
    void complete;
    return names;
  };
}
