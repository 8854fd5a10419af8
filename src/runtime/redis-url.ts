// Redis URLs as the settings, the queue and the logs show them.

/**
 * Hides credentials in a redis:// URL before it is shown or logged: everything between "://" and the LAST "@"
 * of the text is masked, whatever a URL parser would call user, password or host. (WHATWG parsing ends the
 * authority at the first "/", so in redis://app:12/sl@sh-SECRET@127.0.0.1:6391 it sees host "app" and a path
 * holding the password; masking by parts would print it.)
 */
export function safeRedisUrl(url: string): string {
  const scheme = url.indexOf('://');
  // Not a URL: any part of it could be a password, so none of it is shown.
  if (scheme < 0) return '(not a redis:// URL, not shown)';
  const at = url.lastIndexOf('@');
  if (at < scheme + 3) return url;
  return `${url.slice(0, scheme + 3)}***${url.slice(at)}`;
}
