// Waiting for work with a deadline where the caller answers something else when it runs late (a chat's ack, a
// readiness probe): the work itself goes on, and its later failure is not an unhandled rejection.

/** What `within` gives when the work did not settle in time. */
export const LATE = 'late';

/** The work's value, or LATE when it took longer than `ms`. A rejection within `ms` is passed on. */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((r) => (timer = setTimeout(() => r(LATE), ms)));
  work.catch(() => undefined);
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
