/**
 * Text from outside (object keys, header fields such as identities and unknown stanza types,
 * server messages) made safe to print: control characters (C0, DEL, C1) and the invisible
 * formatting characters that reorder text (bidirectional overrides and isolates) are shown as
 * escapes, so that nothing read from an object can move the cursor, rewrite the screen or fake
 * a line of output.
 * @module
 */

// C0 (but not \n, which the callers handle), DEL, C1, ALM, LRM/RLM, bidi embeddings and
// overrides, line and paragraph separators, bidi isolates
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every unsafe character as a visible escape (`\x1b`, `\u202e`); newlines kept. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** `text` on one line: unsafe characters and newlines as escapes. */
export function printableLine(text: string): string {
  return printable(text).replace(/\n/g, '\\n');
}

/**
 * JSON text with the characters JSON.stringify leaves raw but a terminal acts on (DEL, C1,
 * bidi controls) as `\uXXXX` escapes: the same value for a parser, harmless on a screen.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    UNSAFE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
