/**
 * The one channel a build's warnings travel: each is said as it happens (to the terminal, or
 * prefixed with its layer's name in a manifest build) and kept, so the write gate's report and
 * --json carry every one of them. Before, a warning either went straight to the terminal or into
 * a list the gate printed later, depending on who raised it, and a JSON reader saw only the list.
 */
export class Diagnostics {
  private readonly said: string[] = [];

  /** `sink` says a line as it comes; without one (a dry run, a nested build) lines are only kept. */
  constructor(private readonly sink?: (line: string) => void) {}

  warn(line: string): void {
    this.said.push(line);
    this.sink?.(line);
  }

  /** Every warning so far, in the order said. */
  get warnings(): readonly string[] {
    return this.said;
  }

  /** A channel whose lines go here too, with `prefix` before them (the unpack tools' own build). */
  child(prefix: string): Diagnostics {
    return new Diagnostics((line) => this.warn(`${prefix}${line}`));
  }
}
