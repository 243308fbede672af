// Parsers for CLI option values: each names the flag and the accepted range when it refuses.
import { InvalidArgumentError } from 'commander';

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} needs a positive integer, got '${value}'`);
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} needs an integer ≥ 0, got '${value}'`);
    return n;
  };
}

export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} needs a positive number, got '${value}'`);
    return n;
  };
}

export function intList(flag: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => Number(s.trim()));
    if (parts.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new InvalidArgumentError(`${flag} needs comma-separated positive integers, got '${value}'`);
    }
    return parts;
  };
}

/** Collects a repeatable option's values in order (commander's argParser for `--set a --set b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
