// What a long-running command opened, closed in reverse order on the way out,
// whether it ends normally or a startup step fails: a watched inventory or a
// Redis connection left open would keep the process alive after a fatal error.
export type Close = () => unknown;

export class Resources {
  private readonly closers: Close[] = [];

  add(close: Close): void {
    this.closers.push(close);
  }

  /** Closes everything once; a failing close does not stop the others. */
  async closeAll(): Promise<void> {
    while (this.closers.length > 0) {
      const close = this.closers.pop();
      try {
        await close?.();
      } catch {
        // Shutting down: nothing left to tell it to.
      }
    }
  }

  /** Runs `body`; on a throw, closes what was opened before rethrowing. */
  async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      await this.closeAll();
      throw err;
    }
  }
}
