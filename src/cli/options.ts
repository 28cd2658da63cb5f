import type { OptionValues } from '@commander-js/extra-typings';

/** How a command's options are typed: inferred from their declarations (@commander-js/extra-typings), never written twice. */

/** A repeatable option: its values in the order given. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The option values a command's handler receives, as its declarations give them. */
export type OptionsOf<C extends { opts(): OptionValues }> = ReturnType<C['opts']>;

/** A command with no options yet: what a shared adder's option types are read from. */
export type NoOptions = Record<never, never>;
