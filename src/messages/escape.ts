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
 */
export function slackCode(text: string): string {
  const inner = slackEscape(text)
    .replace(/`/g, "'")
    .replace(/[\r\n]+/g, ' ');
  return inner === '' ? '' : `\`${inner}\``;
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
