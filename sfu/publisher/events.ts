/**
 * A small typed event emitter (after mediasoup's `safeEmit`): a listener that throws never breaks
 * the media path; its error goes to `onListenerError` instead. Pure: no Node imports.
 */
export type EventMap = { readonly [name: string]: unknown };
export type Listener<T> = (payload: T) => void;

export class TypedEvents<M extends EventMap> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();

  /** @param onListenerError receives what a listener threw (default: ignored). */
  constructor(private readonly onListenerError: (err: unknown, event: keyof M) => void = () => {}) {}

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Subscribes for one event. */
  once<K extends keyof M>(event: K, listener: Listener<M[K]>): () => void {
    const off = this.on(event, (p) => {
      off();
      listener(p);
    });
    return off;
  }

  off<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as Listener<M[K]>)(payload);
      } catch (err) {
        try {
          this.onListenerError(err, event);
        } catch {
          // An error reporter that throws must not break the media path either.
        }
      }
    }
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
