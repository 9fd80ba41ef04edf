// Command-line arguments of the JVM bench scripts: positional values, and `--name=value` flags.

/** Arguments that are not flags, in order. */
export const positionalArgs = (): string[] =>
  process.argv.slice(2).filter((argument) => !argument.startsWith('--'));

/** The value of `--name=value`, or undefined when the flag is absent. */
export const flagValue = (name: string): string | undefined =>
  process.argv.find((argument) => argument.startsWith(`--${name}=`))?.slice(name.length + 3);
