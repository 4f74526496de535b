// The one error a bad configuration is refused with: a sentence per problem, each naming where the
// value came from and what is allowed.
import { EdgeServerError } from '../errors.js';

/** A bad option value or combination; the message is the sentence to print (a line per problem). */
export class ConfigError extends EdgeServerError {
  /** One sentence per problem found; most refusals have one. */
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('CONFIG_INVALID', list.join('\n'));
    this.name = 'ConfigError';
    this.problems = list;
  }
}
