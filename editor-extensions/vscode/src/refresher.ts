/**
 * Reloads state when asked (on `switchboard/stateChanged`), never more than one load at a time:
 * triggers during a load are merged into one more load after it.
 */
export class Refresher<T> {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly apply: (value: T) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        this.apply(await this.load());
      } catch (e) {
        this.onError(e);
      }
    } while (this.again);
  }
}
