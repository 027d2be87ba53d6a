/**
 * Text a server wrote (a git `ERR` line, an STS error message, a line the parser did not expect), made safe to
 * keep: one line of printable characters, at most a few hundred of them. Applied where the text is parsed and
 * again where a failure becomes data, so no record, alert or terminal sees a server's newlines, terminal escape
 * codes or 64 KB of text.
 */

/** Longest server-provided text a failure message keeps. */
export const SERVER_TEXT_MAX_CHARS = 300;

/**
 * C0 and C1 controls (newlines and ESC among them), DEL, the Unicode line and paragraph separators and the bidi
 * embedding, override and isolate marks (which reorder what a terminal shows).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/**
 * At most `maxChars` characters (an ellipsis marks a cut), every run of control characters one space. Linear in
 * `maxChars`, whatever the input's length: only its first `maxChars + 1` code units are looked at.
 *
 * @example
 * serverText('denied\r\n\u001b[31mred\u001b[0m') // 'denied [31mred [0m'
 * serverText('x'.repeat(65_000)).length // 300
 */
export function serverText(text: string, maxChars = SERVER_TEXT_MAX_CHARS): string {
  const head = text.slice(0, maxChars + 1).replace(UNSAFE, ' ');
  if (head.length <= maxChars && text.length <= maxChars) return head;
  let cut = head.slice(0, maxChars - 1);
  // Never end on half a surrogate pair.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}
