// Command-line arguments of the bench scripts: positional values, `--name=value` flags, and
// `--name value` options.

/** Arguments that are not flags, in order. */
export const positionalArgs = (): string[] =>
  process.argv.slice(2).filter((argument) => !argument.startsWith('--'));

/** The value of `--name=value`, or undefined when the flag is absent. */
export const flagValue = (name: string): string | undefined =>
  process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The value after `--name`: undefined when the option is absent, '' when nothing follows it. */
export const optionValue = (name: string): string | undefined => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : (process.argv[at + 1] ?? '');
};

/** The value after `--name`, or `fallback` when the option is absent or has no value. */
export const option = (name: string, fallback: string): string => optionValue(name) || fallback;
