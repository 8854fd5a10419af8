// Server-supplied text (a probed server's status line, headers, certificate
// names) travels inside lbcheck's messages. Chat platforms read message text
// as markup: a server answering "200 OK <!channel>" must not ping a channel,
// and "<https://evil.example|click>" or "[click](https://evil.example)" must
// not become a link. These functions turn any text into inert data.

/**
 * Slack mrkdwn: &, < and > are the only characters Slack asks apps to escape; with them gone no mention or
 * link can form.
 */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack inline code span: escaped, and with backticks and line breaks
 * replaced, since either would end the span and let the rest be read as mrkdwn.
 * At most max characters (cut after escaping, see cutEscaped).
 */
export function slackCode(text: string, max = Infinity): string {
  const inner = slackEscape(text)
    .replace(/`/g, "'")
    .replace(/[\r\n]+/g, ' ');
  // max bounds the span, backticks included: the cut is inside them, so the span still closes.
  return inner === '' ? '' : `\`${cutEscaped(inner, max - 2)}\``;
}

/**
 * CommonMark punctuation Teams (messages and Adaptive Card TextBlocks) would read as emphasis, links, headings or
 * code. Brackets suffice to break [text](url) links and images, so parentheses stay readable ("L7 (http proxy)").
 */
const TEAMS_MARKDOWN = /[\\`*_[\]~#|]/g;

/**
 * Teams text: markdown characters backslash-escaped, angle brackets and & as entities (Teams message text
 * accepts HTML).
 */
export function teamsPlain(text: string): string {
  // Entities first: the escapes added after contain no & < or >.
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(TEAMS_MARKDOWN, (c) => `\\${c}`);
}

/**
 * Adaptive Card TextBlocks render markdown but never HTML: only the markdown is neutralised, so < and > read
 * as typed.
 */
export function cardPlain(text: string): string {
  return text.replace(TEAMS_MARKDOWN, (c) => `\\${c}`).replace(/[<>]/g, (c) => `\\${c}`);
}

/** What a cut text ends with: the full text is in the evidence files. */
export const TRUNCATED = '… (truncated; full text in the evidence)';

/**
 * Cuts text that is already escaped (slackEscape, teamsPlain, cardPlain) to at most `max` characters, the note
 * included. Escaping comes first because it expands text (each & < > becomes 4–5 characters) and the platforms'
 * limits count the escaped text; the cut never ends inside an entity (&amp; &lt; &gt;), between a backslash and
 * the character it escapes, or between the halves of a surrogate pair, so what is left stays inert and valid.
 */
export function cutEscaped(escaped: string, max: number, note = TRUNCATED): string {
  if (escaped.length <= max) return escaped;
  let end = Math.max(0, max - note.length);
  // An entity the cut would split: the last & within an entity's length before the cut, not closed before it.
  const amp = escaped.lastIndexOf('&', end - 1);
  if (amp >= 0 && !escaped.slice(amp, end).includes(';') && /^&(?:amp|lt|gt);/.test(escaped.slice(amp))) end = amp;
  // An odd run of backslashes before the cut: its last one escapes the character the cut removes.
  let run = 0;
  while (run < end && escaped[end - 1 - run] === '\\') run++;
  if (run % 2 === 1) end--;
  const last = escaped.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${escaped.slice(0, end)}${note}`;
}
