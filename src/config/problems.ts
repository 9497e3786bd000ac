import { ConfigError } from '../errors';

/**
 * Collects every bad setting, so start-up reports them all at once instead of one per restart.
 * Each read that fails records its ConfigError and yields a fallback, so the remaining settings
 * are still checked; `throwIfAny` then throws one ConfigError listing them all.
 */
export class ConfigProblems {
  private readonly found: ConfigError[] = [];

  /** The setting's value, or `fallback` when it is bad (the error is recorded). */
  read<T>(parse: () => T, fallback: T): T {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.found.push(...err.problems);
      return fallback;
    }
  }

  add(problem: ConfigError): void {
    this.found.push(...problem.problems);
  }

  get count(): number {
    return this.found.length;
  }

  /** Throws one ConfigError naming every problem found (its `setting` is the first one's). */
  throwIfAny(): void {
    if (this.found.length > 0) throw ConfigError.all(this.found);
  }
}
