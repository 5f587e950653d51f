// Command-line flags of the examples, the bench and the demo: node:util
// parseArgs plus validation. A bad command line (unknown flag, missing or
// malformed value, number out of range, unknown choice) prints one clear
// `error:` line and a hint to stderr and exits with code 2; --help prints the
// usage to stdout and exits 0.
import {parseArgs} from 'node:util';

/** Exit code of a bad command line. */
export const USAGE_EXIT = 2;

/**
 * Parses argv (default: this process's arguments) against `options` (parseArgs
 * options; `help` is added), strictly. Returns {values, positionals, fail}:
 * fail(message) reports a bad command line and exits 2.
 */
export function parseCommandLine({name, usage, options, allowPositionals = false,
  argv = process.argv.slice(2)}) {
  const fail = message => {
    console.error(`${name}: error: ${message}\nRun with --help for usage.`);
    process.exit(USAGE_EXIT);
  };
  // `--steps -1` means the value -1 (parseArgs would call it ambiguous): join it as --steps=-1.
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = /^--([^=]+)$/.exec(argv[i]);
    if (flag && options[flag[1]]?.type === 'string' && /^-[\d.]/.test(argv[i + 1] ?? '')) {
      args.push(`${argv[i]}=${argv[++i]}`);
    } else {
      args.push(argv[i]);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({args, options: {...options, help: {type: 'boolean', short: 'h'}},
      allowPositionals, strict: true});
  } catch (e) {
    fail(String(e.message).replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values.help) {
    console.log(usage.trim());
    process.exit(0);
  }
  return {values: parsed.values, positionals: parsed.positionals, fail};
}

/**
 * The integer value of flag `--flag` (a string from parseArgs, or undefined:
 * then `fallback`), which must lie in [min, max]; otherwise fail(...).
 */
export function integerFlag(fail, flag, value, {min, max, fallback}) {
  if (value === undefined) return fallback;
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    fail(`--${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** The value of `--flag`, which must be one of `choices` (or undefined: then `fallback`). */
export function choiceFlag(fail, flag, value, choices, fallback) {
  if (value === undefined) return fallback;
  if (!choices.includes(value)) fail(`--${flag} must be one of ${choices.join(', ')}, got '${value}'`);
  return value;
}
