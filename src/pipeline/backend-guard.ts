// Failures of the shared store read as what they are for users: "lbcheck
// cannot reach its Redis", never the client's internals ("Stream isn't
// writeable..."), and never mistaken for a bug. The original error stays as
// the cause, for the log.
import { BackendUnavailableError, LbcheckError } from '../errors.js';

/** Wraps every async method of a store so that its rejections become BackendUnavailableError. */
export function guardBackend<T extends object>(store: T, where: string): T {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          throw err instanceof LbcheckError ? err : new BackendUnavailableError(where, { cause: err });
        });
      };
    },
  });
}
